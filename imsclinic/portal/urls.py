from django.urls import path

from imsclinic.portal import views

urlpatterns = [path("", views.portal_home, name="portal_home")]
