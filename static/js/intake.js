// Intake questionnaire enhancements: the page works without them.
// - clicking a region of the body figure ticks its checkbox (the checkboxes are the control);
// - follow-up questions hide while their trigger answer does not call for them.
(function () {
  "use strict";

  function syncFigure(map, form) {
    map.querySelectorAll("[data-region]").forEach(function (shape) {
      var box = form.querySelector('input[name="pain_areas"][value="' + shape.dataset.region + '"]');
      shape.classList.toggle("is-chosen", Boolean(box && box.checked));
    });
  }

  function setUpBodyMap(map) {
    var form = map.closest("form");
    if (!form) return;
    map.addEventListener("click", function (event) {
      var shape = event.target.closest("[data-region]");
      if (!shape) return;
      var box = form.querySelector('input[name="pain_areas"][value="' + shape.dataset.region + '"]');
      if (!box) return;
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", { bubbles: true }));
    });
    form.addEventListener("change", function (event) {
      if (event.target.name === "pain_areas") syncFigure(map, form);
    });
    syncFigure(map, form);
  }

  function setUpFollowUps(form) {
    var followUps = form.querySelectorAll("[data-when]");
    if (!followUps.length) return;
    function update() {
      followUps.forEach(function (block) {
        var chosen = form.querySelector('input[name="' + block.dataset.when + '"]:checked');
        var wanted = (block.dataset.whenValues || "").split(" ");
        var show = Boolean(chosen && wanted.indexOf(chosen.value) !== -1);
        // Never hide a question with an error or a typed answer the patient should see.
        if (block.classList.contains("has-error")) show = true;
        block.hidden = !show;
      });
    }
    form.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-body-map]").forEach(setUpBodyMap);
    document.querySelectorAll(".intake form").forEach(setUpFollowUps);
  });
})();
