// Session note enhancements: the page works without them (every button is a form POST).
// - "Add a muscle" adds a row in place; "Remove this row" takes one out;
// - choosing a muscle fills its segment from its roots and shows the thoracic precaution;
// - the region list, the text filter and the body chart narrow the muscle lists in place.
(function () {
  "use strict";

  function rowsOf(form) {
    return Array.prototype.slice.call(form.querySelectorAll("[data-rows] [data-row]"));
  }

  function updateBanner(form) {
    var banner = document.querySelector("[data-precaution-banner]");
    if (!banner) return;
    banner.hidden = !rowsOf(form).some(function (row) {
      var marker = row.querySelector("[data-precaution-marker]");
      return marker && !marker.hidden;
    });
  }

  function onMuscleChange(select) {
    var row = select.closest("[data-row]");
    var chosen = select.options[select.selectedIndex];
    var marker = row.querySelector("[data-precaution-marker]");
    if (marker) marker.hidden = !(chosen && chosen.dataset.precaution === "1");
    var segment = row.querySelector("[data-segment-select]");
    if (segment && chosen && chosen.dataset.segment && (!segment.value || segment.dataset.auto === "1")) {
      segment.value = chosen.dataset.segment;
      segment.dataset.auto = "1";
    }
    updateBanner(select.form);
  }

  // Each muscle list as the page drew it: its top-level options and region groups.
  function partsOf(select) {
    if (!select.filterParts) {
      select.filterParts = Array.prototype.map.call(select.children, function (child) {
        var group = child.tagName === "OPTGROUP";
        return { node: child, options: group ? Array.prototype.slice.call(child.children) : [child] };
      });
    }
    return select.filterParts;
  }

  // Options that do not fit are taken out, not hidden (phones list hidden options); the
  // chosen one always stays, and everything comes back when the filter is cleared.
  function applyFilter(form) {
    var regionBox = form.querySelector("[data-filter-region]");
    var textBox = form.querySelector("[data-filter-text]");
    var region = regionBox ? regionBox.value : "";
    var text = textBox ? textBox.value.trim().toLowerCase() : "";
    form.querySelectorAll("[data-muscle-select]").forEach(function (select) {
      var chosen = select.value;
      var keep = [];
      partsOf(select).forEach(function (part) {
        var kept = part.options.filter(function (option) {
          var fits = (!region || option.dataset.region === region) &&
            (!text || option.textContent.toLowerCase().indexOf(text) !== -1);
          return fits || option.value === "" || option.value === chosen;
        });
        if (part.node.tagName === "OPTGROUP") {
          while (part.node.firstChild) part.node.removeChild(part.node.firstChild);
          kept.forEach(function (option) { part.node.appendChild(option); });
        }
        if (kept.length) keep.push(part.node);
      });
      while (select.firstChild) select.removeChild(select.firstChild);
      keep.forEach(function (node) { select.appendChild(node); });
      select.value = chosen;
    });
    document.querySelectorAll("[data-body-chart] [data-region] .chart-region").forEach(function (shape) {
      shape.classList.toggle("is-filter", Boolean(region) && shape.parentNode.dataset.region === region);
    });
  }

  function addRow(form) {
    var template = document.getElementById("row-template");
    var total = form.querySelector("[data-row-total]");
    var index = parseInt(total.value, 10) || 0;
    var html = template.innerHTML.replace(/__i__/g, String(index)).replace(/__n__/g, String(rowsOf(form).length + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    var last = rowsOf(form).pop();
    if (last) {
      ["side", "needle_lot"].forEach(function (name) {
        var from = last.querySelector('[name$="-' + name + '"]');
        var to = row.querySelector('[name$="-' + name + '"]');
        if (from && to && from.value) to.value = from.value;
      });
    }
    form.querySelector("[data-rows]").appendChild(row);
    total.value = String(index + 1);
    setUpRow(row);
    applyFilter(form);
    row.querySelector("[data-muscle-select]").focus();
  }

  function setUpRow(row) {
    var remove = row.querySelector("[data-remove-row]");
    if (remove) {
      remove.hidden = false;
      remove.addEventListener("click", function () {
        var form = row.closest("form");
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        updateBanner(form);
        form.dispatchEvent(new Event("change", { bubbles: true }));
        var focus = next ? next.querySelector("[data-muscle-select]") : form.querySelector("[data-add-row]");
        if (focus) focus.focus();
      });
    }
  }

  function setUp(form) {
    rowsOf(form).forEach(setUpRow);
    form.addEventListener("change", function (event) {
      if (event.target.matches("[data-muscle-select]")) onMuscleChange(event.target);
      if (event.target.matches("[data-segment-select]")) event.target.dataset.auto = "";
      if (event.target.matches("[data-filter-region]")) applyFilter(form);
    });
    var text = form.querySelector("[data-filter-text]");
    if (text) {
      text.addEventListener("input", function () { applyFilter(form); });
      text.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); applyFilter(form); }
      });
    }
    var filterButton = form.querySelector("[data-filter-button]");
    if (filterButton) filterButton.hidden = true;
    var add = form.querySelector("[data-add-row]");
    if (add) {
      add.addEventListener("click", function (event) {
        event.preventDefault();
        addRow(form);
      });
    }
    // Delegated: the chart is swapped in afresh after each background save.
    document.addEventListener("click", function (event) {
      var link = event.target.closest("[data-body-chart] a[data-region]");
      if (!link) return;
      event.preventDefault();
      var regionBox = form.querySelector("[data-filter-region]");
      if (!regionBox) return;
      regionBox.value = link.dataset.region;
      applyFilter(form);
      regionBox.scrollIntoView({ block: "center" });
      regionBox.focus();
    });
    document.body.addEventListener("htmx:afterSettle", function () { applyFilter(form); });
    applyFilter(form);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("session-form");
    if (form) setUp(form);
  });
})();
