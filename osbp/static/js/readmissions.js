/* The re-admission block of a counter page (templates/queues/_readmissions.html): when a task of this officer's
 * agency is opened or recorded (a "readmission.*" event in the agency room), fetch the block again (server-rendered,
 * translated HTML) and put it in place. A note being typed is never thrown away: the refresh waits until the box is
 * empty and left. The block is looked up each time (another script may have re-rendered the part around it). Uses
 * the page's Socket.IO client when one is loaded, else loads it. */
(function () {
  "use strict";

  var first = document.getElementById("readmissions");
  if (!first) return;
  var url = first.dataset.url;
  var pending = null;
  var busy = false;

  function block() {
    return document.getElementById("readmissions");
  }

  function typing(element) {
    var notes = element.querySelectorAll("input[name=note]");
    for (var i = 0; i < notes.length; i++) {
      if (notes[i].value !== "" || notes[i] === document.activeElement) return true;
    }
    return false;
  }

  function later(ms) {
    if (!pending) pending = setTimeout(refresh, ms || 300);
  }

  function refresh() {
    pending = null;
    var current = block();
    if (!current) return;
    if (busy || typing(current)) {
      later(2000);
      return;
    }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected || !response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var now = block();
        if (!now) return;
        if (typing(now)) {
          later(2000);
          return;
        }
        var holder = document.createElement("div");
        holder.innerHTML = html; // our own template, autoescaped on the server
        var fresh = holder.querySelector("#readmissions");
        if (!fresh) return;
        now.replaceWith(fresh);
        document.body.dataset.readmissions = fresh.dataset.count;
      })
      .catch(function () {})
      .then(function () {
        busy = false;
      });
  }

  function connect() {
    var socket = window.osbpSocket || window.io(); // the page's own socket when it shares one
    socket.on("connect", function () {
      document.body.dataset.readmissionsLive = "yes";
      later(); // anything opened or recorded while the socket was down
    });
    socket.on("disconnect", function () {
      document.body.dataset.readmissionsLive = "no";
    });
    socket.on("event", function (message) {
      if (message.type === "session.revoked") window.location.reload();
      else if (message.type && message.type.indexOf("readmission.") === 0) later();
    });
  }

  function start() {
    document.body.dataset.readmissions = first.dataset.count;
    if (typeof window.io === "function") {
      connect();
      return;
    }
    var script = document.createElement("script");
    script.src = first.dataset.socketio;
    script.onload = connect;
    document.head.appendChild(script);
  }

  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
