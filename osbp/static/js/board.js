/* Display board: "T-042 → Counter 3", the last calls and the waits per counter, live over Socket.IO.
 * Every text comes from the page (#board-data, translated on the server). A chime (Web Audio API) plays when a
 * ticket is called; a recall shows an "again" badge and chimes twice. Station names rotate through the post's
 * languages in the lists. "Last calls" keeps only the rows that fit whole; a counter whose line has nobody seated to
 * serve it says "No officer yet", never minutes. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("board-data").textContent);
  var locales = data.locales;
  var calls = data.state.calls.slice();
  var sequence = new OsbpLive.Sequence(data.state.seq); // what the board shows (live-sync.js)
  var MAX_CALLS = 7; // the current call and the six before it
  var body = document.body;

  // -- drawing -------------------------------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function stationNames(stationId, fallback) {
    var station = data.stations[String(stationId)];
    var names = {};
    locales.forEach(function (locale) {
      names[locale] = station ? station.names[locale] : fallback || "";
    });
    return names;
  }

  // One span per language; CSS shows the one of the moment (body[data-lang]).
  function rotating(names) {
    var span = el("span", "rot");
    locales.forEach(function (locale) {
      var part = el("span", null, names[locale]);
      part.lang = locale;
      span.appendChild(part);
    });
    return span;
  }

  // Each different text once, side by side (rw · fr · en).
  function sideBySide(names) {
    var span = el("span", "tri");
    var seen = {};
    locales.forEach(function (locale) {
      var text = names[locale];
      if (!text || seen[text]) return;
      seen[text] = true;
      var part = el("span", null, text);
      part.lang = locale;
      span.appendChild(part);
    });
    return span;
  }

  var again = document.getElementById("now-again"); // moved beside the counter's name at each call
  again.appendChild(rotating(data.labels.again));

  function renderNow() {
    var code = document.getElementById("now-code");
    var station = document.getElementById("now-station");
    station.textContent = "";
    again.hidden = !(calls.length && calls[0].recall);
    if (!calls.length) {
      code.textContent = "—";
      markLineStarts();
      return;
    }
    code.textContent = calls[0].code;
    // The first language big (with a recall's badge beside it), the others on one line below it.
    var names = sideBySide(stationNames(calls[0].station_id, calls[0].station));
    var row = el("span", "now-name-row");
    var first = names.firstElementChild;
    if (first) {
      first.className = "now-name";
      row.appendChild(first);
    }
    row.appendChild(again);
    station.appendChild(row);
    names.classList.add("now-others");
    if (names.firstElementChild) station.appendChild(names);
    markLineStarts();
  }

  // A label's languages are set apart by a rule; a language that wraps to a new line starts it without one.
  function markLineStarts() {
    var labels = document.querySelectorAll(".tri");
    for (var i = 0; i < labels.length; i += 1) {
      var previous = null;
      for (var part = labels[i].firstElementChild; part; part = part.nextElementSibling) {
        // below the previous one's middle: on a new line (a smaller language on the same line sits a little lower)
        var wrapped = !!previous && part.offsetTop >= previous.offsetTop + previous.offsetHeight / 2;
        part.classList.toggle("line-start", wrapped);
        previous = part;
      }
    }
  }

  // Only whole rows: those that would be cut at the bottom of the list are left out.
  function fitHistory(list) {
    var bottom = list.getBoundingClientRect().bottom;
    while (list.lastElementChild && list.lastElementChild.getBoundingClientRect().bottom > bottom + 0.5) {
      list.removeChild(list.lastElementChild);
    }
  }

  function renderHistory() {
    var list = document.getElementById("history");
    list.textContent = "";
    calls.slice(1, MAX_CALLS).forEach(function (call) {
      var item = el("li", call.recall ? "recall" : null);
      item.appendChild(el("span", "history-code", call.code));
      item.appendChild(el("span", "history-arrow", "→"));
      var where = el("span", "history-station");
      where.appendChild(rotating(stationNames(call.station_id, call.station)));
      item.appendChild(where);
      if (call.recall) {
        var mark = el("span", "again-mark");
        mark.appendChild(rotating(data.labels.again));
        item.appendChild(mark);
      }
      list.appendChild(item);
    });
    fitHistory(list);
  }

  function icon(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function renderWaits(queues) {
    var list = document.getElementById("waits");
    list.textContent = "";
    queues.forEach(function (queue) {
      var state = queue.state || (queue.open ? "open" : "closed");
      var unstaffed = queue.unstaffed || 0;
      var item = el("li", "wait-card " + state);
      item.dataset.station = queue.station_code;
      var name = el("p", "wait-name");
      name.appendChild(rotating(stationNames(queue.station_id, queue.station_code)));
      item.appendChild(name);
      var figures = el("p", "wait-figures");
      if (state !== "open") {
        figures.appendChild(rotating(data.labels[state] || data.labels.closed));
      } else {
        var waiting = el("span", "wait-count");
        waiting.appendChild(icon("icon-waiting"));
        waiting.appendChild(document.createTextNode(String(queue.waiting)));
        figures.appendChild(waiting);
        if (queue.wait_minutes === null && unstaffed > 0) {
          // Nobody seated to serve this line: say so, never a number of minutes.
          item.classList.add("unstaffed");
          var nobody = el("span", "wait-none");
          nobody.appendChild(icon("icon-nobody"));
          nobody.appendChild(rotating(data.labels.no_officer));
          figures.appendChild(nobody);
        } else {
          var wait = el("span", "wait-time");
          wait.appendChild(icon("icon-wait"));
          wait.appendChild(
            document.createTextNode(queue.wait_minutes === null ? "—" : queue.wait_minutes + " min")
          );
          figures.appendChild(wait);
        }
      }
      item.appendChild(figures);
      if (state === "open" && unstaffed > 0 && queue.wait_minutes !== null) {
        // A joint counter with one agency's officer missing: the minutes are for the others.
        var some = el("p", "wait-some");
        some.appendChild(icon("icon-nobody"));
        some.appendChild(document.createTextNode(unstaffed + " · "));
        some.appendChild(rotating(data.labels.no_officer));
        item.appendChild(some);
      }
      list.appendChild(item);
    });
    renderHistory(); // the waits' height sets the room left for the last calls
  }

  function ring() {
    var now = document.getElementById("now");
    now.classList.remove("ring");
    void now.offsetWidth; // restart the animation
    now.classList.add("ring");
  }

  // -- the chime ----------------------------------------------------------------------------------------------

  var audio = null;
  var soundButton = document.getElementById("sound");

  function audioContext() {
    if (!audio) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      audio = new Context();
      audio.onstatechange = showSoundButton;
    }
    return audio;
  }

  function showSoundButton() {
    soundButton.hidden = !audio || audio.state === "running";
    markLineStarts();
  }

  function tone(context, frequency, start, length) {
    var oscillator = context.createOscillator();
    var gain = context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.6, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
    oscillator.connect(gain);
    gain.connect(context.destination);
    oscillator.start(start);
    oscillator.stop(start + length + 0.05);
  }

  // "Ding-dong" (E5, C5); a recall rings it twice.
  function chime(times) {
    body.dataset.chimes = String(Number(body.dataset.chimes || 0) + 1);
    body.dataset.lastChime = String(times); // 2 for a recall
    var context = audioContext();
    if (!context || context.state !== "running") return;
    var at = context.currentTime + 0.05;
    for (var i = 0; i < times; i += 1) {
      tone(context, 659.25, at, 1.0);
      tone(context, 523.25, at + 0.5, 1.4);
      at += 1.6;
    }
    body.dataset.chimesPlayed = String(Number(body.dataset.chimesPlayed || 0) + 1);
  }

  function unlockSound() {
    var context = audioContext();
    if (context && context.state !== "running") context.resume().then(showSoundButton);
  }

  soundButton.addEventListener("click", unlockSound);
  document.addEventListener("pointerdown", unlockSound);
  audioContext();
  if (audio && audio.state !== "running") audio.resume().catch(function () {}).then(showSoundButton);
  showSoundButton();

  // -- live updates -------------------------------------------------------------------------------------------

  function called(call, recall) {
    calls = calls.filter(function (c) {
      return c.code !== call.code;
    });
    calls.unshift({ code: call.code, station_id: call.station_id, station: call.station, recall: recall });
    calls = calls.slice(0, MAX_CALLS);
    renderNow();
    renderHistory();
    ring();
    chime(recall ? 2 : 1);
  }

  // The board's snapshot (GET /api/v1/board): the last calls, the waits and the post's live number. One fetch at a
  // time; asked again while one runs, it runs once more after it; still behind (the snapshot was older than an event
  // applied meanwhile), it asks again.
  var fetching = false;
  var fetchAgain = false;
  function refresh() {
    if (fetching) {
      fetchAgain = true;
      return;
    }
    fetching = true;
    fetch(data.state_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) window.location.reload(); // revoked
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (state) {
        if (!sequence.snapshot(state.seq)) return; // older than what is shown
        calls = state.calls.slice(0, MAX_CALLS);
        renderNow();
        renderWaits(state.queues); // then the last calls
      })
      .catch(function () {})
      .then(function () {
        fetching = false;
        if (fetchAgain || sequence.behind) {
          fetchAgain = false;
          setTimeout(refresh, 200);
        }
      });
  }

  function resync() {
    sequence.want();
    OsbpLive.soon(refresh);
  }

  var offline = document.getElementById("offline");
  var socket = io(); // long-polling first, then upgraded to a WebSocket
  socket.on("connect", function () {
    offline.hidden = true;
    body.dataset.live = "yes";
    sequence.want();
    refresh(); // resynchronise after a reconnection
  });
  socket.on("disconnect", function () {
    offline.hidden = false;
    body.dataset.live = "no";
  });
  socket.on("connect_error", function () {
    offline.hidden = false;
  });
  socket.on("resync", resync); // the message queue came back: events may have been lost
  socket.on("event", function (message) {
    if (message.type === "session.revoked") {
      window.location.reload();
      return;
    }
    var verdict = sequence.event(message.seq);
    if (verdict === "stale") return; // already in the snapshot shown: no second chime, no older call on top
    if (message.type === "ticket.called") called(message.data, false);
    else if (message.type === "ticket.recalled") called(message.data, true);
    else if (message.type === "station.changed" || message.type === "station.seats_changed") refresh();
    if (verdict === "gap") refresh(); // missed events: read the whole state again
  });

  // -- clock, language rotation, periodic refresh -------------------------------------------------------------

  var clock = document.getElementById("clock");
  function tick() {
    try {
      clock.textContent = new Date().toLocaleTimeString("fr-FR", {
        hour: "2-digit",
        minute: "2-digit",
        timeZone: clock.dataset.timezone,
      });
    } catch (error) {
      clock.textContent = new Date().toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
    }
  }

  var turn = 0;
  function rotate() {
    body.dataset.lang = locales[turn % locales.length];
    turn += 1;
  }

  renderNow();
  renderWaits(data.state.queues); // then the last calls, in the room the waits leave
  rotate();
  tick();
  markLineStarts(); // once the clock has its width
  setInterval(rotate, 6000);
  setInterval(tick, 10000);
  setInterval(refresh, data.refresh_seconds * 1000);
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      markLineStarts();
      renderHistory(); // whole rows for the new height
    }, 200);
  });
})();
