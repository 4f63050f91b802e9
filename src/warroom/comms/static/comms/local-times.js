// Public status pages: show every time in the visitor's own time zone. The page is rendered (and cached) in UTC
// for everyone; without JavaScript, or for a visitor whose zone is UTC, it stays as rendered.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    return;
  }
  if (!zone || zone === "UTC" || zone === "Etc/UTC") {
    return;
  }
  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  });
  var times = document.querySelectorAll("time[data-local]");
  for (var i = 0; i < times.length; i++) {
    var at = new Date(times[i].getAttribute("datetime"));
    if (isNaN(at.getTime())) {
      continue;
    }
    times[i].setAttribute("title", times[i].textContent.trim() + " UTC");
    times[i].textContent = format.format(at);
  }
  var suffixes = document.querySelectorAll(".sp-utc");
  for (var j = 0; j < suffixes.length; j++) {
    suffixes[j].remove();
  }
  var note = document.getElementById("sp-zone-note");
  if (note) {
    note.textContent = "Times are in your time zone (" + zone + "); each uptime bar is a day in UTC.";
  }
})();
