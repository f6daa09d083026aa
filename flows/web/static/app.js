// axiswatch web: keyboard labelling on the queue, hover and click on the dashboard chart.
// No inline script anywhere (the Content-Security-Policy forbids it); text is set with textContent only.
"use strict";

function typing(event) {
  var t = event.target;
  return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable);
}

function queueKeys() {
  var form = document.getElementById("label-form");
  if (!form) { return; }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    var button = form.querySelector('button[data-key="' + event.key + '"]');
    if (button) {
      event.preventDefault();
      var analyst = document.getElementById("analyst");
      if (!analyst.value.trim()) { analyst.focus(); return; }
      button.click();
    } else if (event.key === "s") {
      event.preventDefault();
      window.location.assign(document.getElementById("skip-link").getAttribute("href"));
    }
  });
}

function chartHover() {
  var chart = document.getElementById("chart");
  var tip = document.getElementById("tip");
  if (!chart || !tip) { return; }
  chart.querySelectorAll("circle.point").forEach(function (dot) {
    dot.addEventListener("mouseenter", function () {
      var d = dot.dataset;
      var band = d.lo ? "  95% [" + d.lo + ", " + d.hi + "]" : "  no interval (too few articles)";
      tip.textContent = d.series + " · " + d.week + ": " + d.mean + "  n=" + d.n + band;
      var box = dot.getBoundingClientRect();
      tip.style.left = (window.scrollX + box.right + 8) + "px";
      tip.style.top = (window.scrollY + box.top - 8) + "px";
      tip.hidden = false;
    });
    dot.addEventListener("mouseleave", function () { tip.hidden = true; });
    dot.addEventListener("click", function (event) {
      event.preventDefault();
      window.location.assign(dot.dataset.href);
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  queueKeys();
  chartHover();
});
