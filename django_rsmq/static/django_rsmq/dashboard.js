/* The RSMQ dashboard: refreshes its live part (#rsmq-live, fetched with ?partial=1)
   every few seconds unless paused, and filters the queue rows as you type (the ?q=
   filter the server applies, kept in the address bar for the next refresh). */
(function () {
  "use strict";
  var live = document.getElementById("rsmq-live");
  var button = document.getElementById("rsmq-pause");
  var status = document.getElementById("rsmq-refresh-status");
  var filter = document.getElementById("rsmq-filter");
  if (!live || !button) { return; }
  var every = (parseFloat(button.getAttribute("data-refresh")) || 5) * 1000;
  var storageKey = "rsmq-dashboard-paused";
  var paused = false;
  try { paused = window.sessionStorage.getItem(storageKey) === "1"; } catch (e) { /* private mode */ }
  var timer = null;
  var busy = false;

  function applyFilter() {
    if (!filter) { return; }
    var needle = filter.value.trim().toLowerCase();
    var rows = live.querySelectorAll("#result_list tbody tr[data-queue]");
    for (var i = 0; i < rows.length; i++) {
      var name = rows[i].getAttribute("data-queue").toLowerCase();
      rows[i].hidden = needle !== "" && name.indexOf(needle) === -1;
    }
  }

  function render() {
    button.textContent = paused ? "Resume auto-refresh" : "Pause auto-refresh";
    status.textContent = paused ? "Auto-refresh paused." : "Refreshes every " + every / 1000 + " s.";
  }

  function partialUrl() {
    var url = new URL(window.location.href);
    url.searchParams.set("partial", "1");
    return url.toString();
  }

  function refresh() {
    if (paused || busy || document.hidden) { return; }
    busy = true;
    fetch(partialUrl(), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (html) {
        if (paused) { return; }
        var open = {};
        live.querySelectorAll("details[open]").forEach(function (d) { open[d.parentNode.id] = true; });
        live.innerHTML = html;
        live.querySelectorAll("details").forEach(function (d) { if (open[d.parentNode.id]) { d.open = true; } });
        applyFilter();
        live.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function (err) { status.textContent = "Refresh failed (" + err.message + "); retrying."; })
      .then(function () { busy = false; });
  }

  function schedule() {
    if (timer !== null) { window.clearInterval(timer); }
    timer = window.setInterval(refresh, every);
  }

  button.addEventListener("click", function () {
    paused = !paused;
    try { window.sessionStorage.setItem(storageKey, paused ? "1" : "0"); } catch (e) { /* ignore */ }
    render();
    if (!paused) { refresh(); }
  });

  if (filter) {
    filter.addEventListener("input", function () {
      applyFilter();
      var url = new URL(window.location.href);
      if (filter.value.trim()) { url.searchParams.set("q", filter.value.trim()); } else { url.searchParams.delete("q"); }
      window.history.replaceState(null, "", url.toString());
    });
  }

  render();
  applyFilter();
  schedule();
})();
