// A search box that narrows a long list to choose from, such as the muscle catalogue.
// Any <select data-option-filter="Label of the box"> gets a labelled search box before it;
// typing keeps only the options whose text contains what was typed (accents and case
// ignored), the chosen option always stays. The box has no name, so it is never sent: the
// form and the list work the same without this script.
(function () {
  "use strict";

  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function setUp(select) {
    if (!select.id) return;
    var box = document.createElement("input");
    box.type = "search";
    box.id = select.id + "-filter";
    box.autocomplete = "off";
    box.setAttribute("aria-controls", select.id);
    var label = document.createElement("label");
    label.htmlFor = box.id;
    label.textContent = select.dataset.optionFilter;
    var status = document.createElement("p");
    status.className = "small option-filter-status";
    status.id = select.id + "-filter-status";
    status.setAttribute("role", "status");
    box.setAttribute("aria-describedby", status.id);
    var holder = document.createElement("div");
    holder.className = "option-filter";
    holder.appendChild(label);
    holder.appendChild(box);
    holder.appendChild(status);
    select.parentNode.insertBefore(holder, select);

    // The list as the page drew it: top-level options and groups, each option's plain text.
    var parts = Array.prototype.map.call(select.children, function (child) {
      var options = child.tagName === "OPTGROUP" ? Array.prototype.slice.call(child.children) : [child];
      return {
        node: child,
        options: options.map(function (option) {
          return { node: option, text: plain(option.textContent), always: option.value === "" };
        })
      };
    });

    // Options are taken out and put back rather than hidden: phones show hidden options.
    function apply() {
      var needle = plain(box.value.trim());
      var chosen = select.value;
      var shown = 0;
      var keep = [];
      parts.forEach(function (part) {
        var kept = part.options.filter(function (item) {
          var matches = !item.always && item.text.indexOf(needle) !== -1;
          if (matches) shown += 1;
          return !needle || matches || item.always || item.node.value === chosen;
        });
        if (part.node.tagName === "OPTGROUP") {
          while (part.node.firstChild) part.node.removeChild(part.node.firstChild);
          kept.forEach(function (item) { part.node.appendChild(item.node); });
        }
        if (kept.length) keep.push(part.node);
      });
      while (select.firstChild) select.removeChild(select.firstChild);
      keep.forEach(function (node) { select.appendChild(node); });
      select.value = chosen;
      status.textContent = needle && !shown ? (select.dataset.optionFilterNone || "") : "";
    }

    box.addEventListener("input", apply);
    box.addEventListener("keydown", function (event) {
      // Enter in the box filters; it does not send the form.
      if (event.key === "Enter") event.preventDefault();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-option-filter]").forEach(setUp);
  });
})();
