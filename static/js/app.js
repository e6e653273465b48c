// On every page. The page works without it.
// - A form's error summary (core/_error_summary.html) takes focus when the page loads, so
//   screen reader and keyboard users start at the list of what to fix; each entry links to
//   its field.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary && summary.getAttribute("role") === "alert") summary.focus();
  });
})();
