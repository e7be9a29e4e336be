// mamori portal: the little script the pages use. Everything works without it;
// it adds confirmation prompts and the map's PNG download.
"use strict";
document.addEventListener("submit", function (ev) {
  var b = ev.submitter;
  var msg = b && b.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { ev.preventDefault(); }
});
document.addEventListener("click", function (ev) {
  var a = ev.target.closest && ev.target.closest("[data-png-of]");
  if (!a) { return; }
  ev.preventDefault();
  var svg = document.getElementById(a.getAttribute("data-png-of"));
  if (!svg) { return; }
  var vb = svg.viewBox.baseVal;
  var scale = 2;
  var clone = svg.cloneNode(true);
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("width", vb.width);
  clone.setAttribute("height", vb.height);
  // Inline the styles the page's CSS gives the SVG, so the picture matches.
  var style = document.createElementNS("http://www.w3.org/2000/svg", "style");
  style.textContent = "text{font-family:sans-serif}.lbl{font-size:12px;fill:#1d2433}.axis{font-size:11px;fill:#5f6b7a}";
  clone.insertBefore(style, clone.firstChild);
  var data = new XMLSerializer().serializeToString(clone);
  var img = new Image();
  img.onload = function () {
    var c = document.createElement("canvas");
    c.width = vb.width * scale; c.height = vb.height * scale;
    var g = c.getContext("2d");
    g.fillStyle = "#fff"; g.fillRect(0, 0, c.width, c.height);
    g.drawImage(img, 0, 0, c.width, c.height);
    c.toBlob(function (blob) {
      var url = URL.createObjectURL(blob);
      var link = document.createElement("a");
      link.href = url; link.download = a.getAttribute("data-name") || "mamori.png";
      document.body.appendChild(link); link.click(); link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    }, "image/png");
  };
  img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(data);
});
