/* Supervisors' live view: when an event reaches this supervisor (post or supervisor room), fetch the panel again
 * (server-rendered and translated HTML) and put it in place. At most one fetch per second; every 20 s anyway.
 * The list of empty queues stays open or closed as the supervisor left it. */
(function () {
  "use strict";

  var panel = document.getElementById("live-panel");
  var status = document.getElementById("live-status");
  var pending = null;
  var busy = false;
  var sequence = new OsbpLive.Sequence(OsbpLive.number(panel.dataset.seq)); // what the panel shows (live-sync.js)

  function refresh() {
    pending = null;
    if (busy) {
      later();
      return;
    }
    busy = true;
    fetch(panel.dataset.url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected || !response.ok) throw new Error(String(response.status));
        var seq = OsbpLive.number(response.headers.get("X-OSBP-Seq"));
        return response.text().then(function (html) {
          return sequence.snapshot(seq) ? html : null; // null: older than what is shown
        });
      })
      .then(function (html) {
        if (html === null) return;
        var empty = document.getElementById("empty-queues");
        var open = empty ? empty.open : false;
        panel.innerHTML = html; // our own template, autoescaped on the server
        empty = document.getElementById("empty-queues");
        if (empty) empty.open = open;
        document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (sequence.behind) later();
      });
  }

  function later(ms) {
    if (!pending) pending = setTimeout(refresh, ms === undefined ? 1000 : ms);
  }

  var socket = io();
  socket.on("connect", function () {
    status.textContent = status.dataset.connected;
    document.body.dataset.live = "yes";
    sequence.want();
    later();
  });
  socket.on("resync", function () {
    sequence.want(); // the message queue came back: events may have been lost
    later(Math.floor(Math.random() * OsbpLive.SPREAD_MS));
  });
  socket.on("disconnect", function () {
    status.textContent = status.dataset.disconnected;
    document.body.dataset.live = "no";
  });
  socket.on("event", function (message) {
    if (message.type === "session.revoked") {
      window.location.reload();
      return;
    }
    var verdict = sequence.event(message.seq);
    if (verdict === "gap" || (verdict === "apply" && message.type !== "sync")) later();
  });
  setInterval(function () {
    later();
  }, 20000);
})();
