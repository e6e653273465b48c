// Drawn signature on the consent form: an optional extra to the typed name.
// Without this script the canvas stays hidden and the typed name is the signature.
// The drawing is kept as SVG path data (moves and lines in a 600 x 200 box) in the hidden
// input "drawn_signature"; the server checks it and draws it again in the signed PDF.
(function () {
  "use strict";

  var WIDTH = 600;
  var HEIGHT = 200;

  function setUp(pad) {
    var form = pad.closest("form");
    var input = form && form.querySelector("input[name='drawn_signature']");
    var canvas = pad.querySelector("canvas");
    var clear = pad.querySelector("[data-signature-clear]");
    if (!input || !canvas || !canvas.getContext) {
      return;
    }
    var ctx = canvas.getContext("2d");
    var strokes = [];
    var current = null;

    function style() {
      ctx.lineWidth = 3;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
    }

    function point(event) {
      var box = canvas.getBoundingClientRect();
      var x = ((event.clientX - box.left) / box.width) * WIDTH;
      var y = ((event.clientY - box.top) / box.height) * HEIGHT;
      return [Math.max(0, Math.min(WIDTH, Math.round(x))), Math.max(0, Math.min(HEIGHT, Math.round(y)))];
    }

    function save() {
      var parts = [];
      strokes.forEach(function (stroke) {
        if (stroke.length < 2) {
          return;
        }
        parts.push("M " + stroke[0][0] + " " + stroke[0][1]);
        for (var i = 1; i < stroke.length; i++) {
          parts.push("L " + stroke[i][0] + " " + stroke[i][1]);
        }
      });
      input.value = parts.join(" ");
    }

    function redraw() {
      ctx.clearRect(0, 0, WIDTH, HEIGHT);
      style();
      strokes.forEach(function (stroke) {
        ctx.beginPath();
        stroke.forEach(function (p, i) {
          if (i === 0) {
            ctx.moveTo(p[0], p[1]);
          } else {
            ctx.lineTo(p[0], p[1]);
          }
        });
        ctx.stroke();
      });
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      current = [point(event)];
      strokes.push(current);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!current) {
        return;
      }
      var p = point(event);
      var last = current[current.length - 1];
      if (Math.abs(p[0] - last[0]) + Math.abs(p[1] - last[1]) < 2) {
        return; // keep the path short: skip moves of a pixel or so
      }
      current.push(p);
      redraw();
    });
    function end() {
      if (current) {
        current = null;
        save();
      }
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    if (clear) {
      clear.addEventListener("click", function () {
        strokes = [];
        input.value = "";
        redraw();
      });
    }
    pad.hidden = false;
    style();
  }

  function init() {
    document.querySelectorAll("[data-signature-pad]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
