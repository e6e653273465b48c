// The take-a-payment page. The page works without it: empty boxes are filled oldest-first
// by the server. With it, typing the amount fills the boxes the same way and says what
// will be kept as account credit before the form is sent.
(function () {
  "use strict";

  function cents(text) {
    var value = parseFloat(String(text || "").replace(",", "."));
    return isNaN(value) ? 0 : Math.round(value * 100);
  }

  function show(value) {
    return (value / 100).toFixed(2);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("payment-form");
    if (!form) return;
    var amount = form.querySelector("input[name='amount']");
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[data-owed]"));
    var note = document.getElementById("payment-credit");
    var typedByHand = false;
    boxes.forEach(function (box) {
      box.addEventListener("input", function () {
        typedByHand = true;
        say();
      });
    });

    function say() {
      if (!note || !note.dataset.template) return;
      var rest = cents(amount.value);
      boxes.forEach(function (box) {
        rest -= cents(box.value);
      });
      note.textContent = rest > 0 ? note.dataset.template.replace("AMOUNT", show(rest)) : "";
    }

    if (amount) {
      amount.addEventListener("input", function () {
        if (!typedByHand) {
          var rest = cents(amount.value);
          boxes.forEach(function (box) {
            var take = Math.max(0, Math.min(rest, cents(box.dataset.owed)));
            box.value = take > 0 ? show(take) : "";
            rest -= take;
          });
        }
        say();
      });
    }
  });
})();
