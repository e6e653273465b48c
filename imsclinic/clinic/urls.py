"""Needle stock and sharps log pages for staff."""

from django.urls import path

from imsclinic.clinic import views

urlpatterns = [
    path("staff/stock/", views.stock_lots, name="stock_lots"),
    path("staff/stock/lots/new/", views.stock_lot_new, name="stock_lot_new"),
    path("staff/stock/levels/", views.stock_levels, name="stock_levels"),
    path("staff/stock/lots/<int:lot_id>/recall/", views.stock_lot_recall, name="stock_lot_recall"),
    path(
        "staff/stock/lots/<int:lot_id>/patients/",
        views.stock_lot_patients,
        name="stock_lot_patients",
    ),
    path(
        "staff/stock/lots/<int:lot_id>/patients.csv",
        views.stock_lot_patients_csv,
        name="stock_lot_patients_csv",
    ),
    path("staff/stock/sharps/", views.sharps_log_page, name="sharps_log"),
    path("staff/stock/sharps/<int:container_id>/seal/", views.sharps_seal, name="sharps_seal"),
    path(
        "staff/stock/sharps/<int:container_id>/collect/",
        views.sharps_collect,
        name="sharps_collect",
    ),
]
