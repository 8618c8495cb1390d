/* Traders' kiosk: choosing the direction then the category, the on-screen keypad, the ticket status
 * (GET /api/v1/tickets/<code>/status) and its live updates, and printing the ticket on a kiosk set up for it.
 * After a lookup the socket watches the ticket's public room; any event for it reloads the status without reloading
 * the page. Every text comes from the page (#kiosk-data and the template), translated on the server; the lookup asks
 * for the kiosk's language (Accept-Language) so that its errors ("No ticket T-999 today.") come in it too.
 * After a while without a touch the kiosk goes back to its start screen in the default language. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("kiosk-data").textContent);
  var labels = data.labels;
  var home = document.getElementById("home");
  var statusScreen = document.getElementById("status");
  var rightsStrip = document.getElementById("rights-strip");
  var input = document.getElementById("code");
  var lookupError = document.getElementById("lookup-error");
  var current = null; // the ticket code shown
  // What the status shown includes (live-sync.js); the ticket's room gets only its own events: no gaps to see.
  var sequence = new OsbpLive.Sequence(null, { gaps: false });
  var refreshTimer = null;

  function $(id) {
    return document.getElementById(id);
  }

  function fill(id, text) {
    $(id).textContent = text === null || text === undefined || text === "" ? labels.none : String(text);
  }

  function format(template, name, value) {
    return template.split("%(" + name + ")s").join(String(value));
  }

  // -- taking a ticket: where to first (nothing pre-selected), then who; one tap issues one ticket ------------------

  var takeForm = $("take-form");
  var categories = $("categories");
  function directionChosen() {
    var chosen = takeForm.querySelector("input[name=direction]:checked");
    categories.disabled = !chosen;
    $("categories-hint").hidden = !!chosen;
    return chosen;
  }
  if (takeForm) {
    takeForm.querySelectorAll("input[name=direction]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (directionChosen() && categories.getBoundingClientRect().bottom > window.innerHeight) {
          categories.scrollIntoView({ behavior: "smooth", block: "end" });
        }
      });
    });
    directionChosen();
    // A page restored from the back-forward cache keeps its radio: the categories follow it.
    window.addEventListener("pageshow", directionChosen);
    takeForm.addEventListener("submit", function () {
      var buttons = takeForm.querySelectorAll("button");
      setTimeout(function () {
        buttons.forEach(function (button) {
          button.disabled = true;
        });
      }, 0);
    });
  }

  // -- the keypad --------------------------------------------------------------------------------------------------

  document.querySelectorAll(".keypad [data-key]").forEach(function (key) {
    key.addEventListener("click", function () {
      var value = key.dataset.key;
      if (value === "back") input.value = input.value.slice(0, -1);
      else if (/[A-Z]/.test(value)) input.value = value + "-";
      else if (input.value.length < 8) input.value += value;
      lookupError.hidden = true;
    });
  });

  $("lookup").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value.trim();
    if (!code) {
      showError(labels.empty);
      return;
    }
    lookup(code, true);
  });

  // A QR scanner (a keyboard to the browser) types what the QR holds and Enter anywhere on the page: the ticket's
  // address (…/t/T-042?post=…&day=…) whose code is read out of it, or a bare code typed the same way.
  var scanned = "";
  function codeIn(text) {
    var address = /\/t\/([A-Za-z]-?\d{1,5})(?:[/?#]|$)/.exec(text);
    if (address) return address[1].toUpperCase();
    return text.replace(/[^A-Za-z0-9-]/g, "").toUpperCase().slice(-8);
  }
  document.addEventListener("keydown", function (event) {
    if (event.target === input || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Enter" && input.value) {
      event.preventDefault();
      scanned = "";
      lookup(input.value.trim(), true);
    } else if (event.key.length === 1 && scanned.length < 256) {
      scanned += event.key;
      input.value = codeIn(scanned);
    }
  });

  function showError(message) {
    scanned = "";
    lookupError.textContent = message;
    lookupError.hidden = false;
  }

  // -- the status ----------------------------------------------------------------------------------------------------

  function render(status) {
    current = status.code;
    statusScreen.dataset.status = status.status;
    fill("s-code", status.code);
    fill("s-message", status.message);
    showDirection(status);
    fill("s-step", status.current_step ? status.current_step.label : null);
    fill("s-position", status.position ? format(labels.position, "position", status.position) : null);
    if (status.unstaffed) {
      fill("s-wait", status.unstaffed_message); // "No officer at Counter 3 yet.": no minutes to promise
    } else if (status.estimated_wait_minutes !== null) {
      var minutes = (status.estimated_wait_minutes === 1 && labels.minutes_one) || labels.minutes; // "about 1 min"
      fill("s-wait", format(minutes, "minutes", status.estimated_wait_minutes));
    } else {
      fill("s-wait", status.status === "waiting" ? labels.unknown : null);
    }
    // Each counter's name on one line ("Counter 1 / Counter 2" never breaks inside a name).
    var places = status.station ? [status.station] : status.stations;
    var station = $("s-station");
    station.textContent = places.length ? "" : labels.none;
    places.forEach(function (place, index) {
      if (index) station.appendChild(document.createTextNode(" / "));
      var name = document.createElement("span");
      name.className = "place";
      name.textContent = place.name;
      station.appendChild(name);
    });
    fill("s-fees", status.fees.due.length ? status.fees.due.join(", ") : status.fees.message);

    var steps = $("s-steps");
    steps.textContent = "";
    status.steps.forEach(function (step) {
      var item = document.createElement("li");
      item.className = "route-step " + step.state;
      item.textContent = step.label;
      steps.appendChild(item);
    });
    var documents = $("s-documents");
    documents.textContent = "";
    status.documents.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      documents.appendChild(item);
    });
    // The language buttons keep the ticket on screen.
    document.querySelectorAll(".kiosk-langs a").forEach(function (link) {
      link.href = data.home_url + "?lang=" + link.dataset.lang + "&ticket=" + encodeURIComponent(status.code);
    });
  }

  function showDirection(status) {
    var place = $("s-direction");
    var flags = $("flags-" + status.direction);
    place.textContent = "";
    if (flags) place.appendChild(flags.content.cloneNode(true));
    var name = document.createElement("span");
    name.className = "status-direction-name";
    name.textContent = status.direction_label;
    place.appendChild(name);
  }

  function show(screen) {
    var onStatus = screen === "status";
    statusScreen.hidden = !onStatus;
    home.hidden = onStatus;
    rightsStrip.hidden = onStatus;
  }

  function lookup(code, fromKeypad) {
    if (fromKeypad) sequence = new OsbpLive.Sequence(null, { gaps: false }); // another ticket
    var url = data.status_url.replace("CODE", encodeURIComponent(code)) + "?lang=" + data.lang;
    var headers = { Accept: "application/json", "Accept-Language": data.lang };
    return fetch(url, { credentials: "same-origin", headers: headers })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          if (fromKeypad) showError(result.body.error.message);
          else fill("s-message", result.body.error.message);
          return;
        }
        if (!fromKeypad && !sequence.snapshot(result.body.seq)) return; // older than what is shown
        if (fromKeypad) sequence.snapshot(result.body.seq);
        render(result.body);
        show("status");
        input.value = "";
        watch(result.body.code);
        schedule();
      })
      .catch(function () {
        if (fromKeypad) showError(labels.network);
        else fill("s-message", labels.network);
      });
  }

  function schedule() {
    clearInterval(refreshTimer);
    refreshTimer = setInterval(function () {
      if (current) lookup(current, false);
    }, data.refresh_seconds * 1000);
  }

  // -- live updates ------------------------------------------------------------------------------------------------

  var socket = io();
  function watch(code) {
    if (socket.connected) socket.emit("watch", { code: code });
  }
  function resync() {
    if (current) lookup(current, false); // events may have been missed: read the status again
  }
  socket.on("connect", function () {
    document.body.dataset.live = "yes";
    if (current) {
      watch(current); // rooms are lost with a reconnection
      resync();
    }
  });
  socket.on("resync", function () {
    OsbpLive.soon(resync); // the message queue came back: events may have been lost
  });
  socket.on("disconnect", function () {
    document.body.dataset.live = "no";
  });
  socket.on("event", function (message) {
    if (message.type === "session.revoked") {
      window.location.reload();
      return;
    }
    if (!current || !message.data || message.data.code !== current) return;
    if (sequence.event(message.seq) === "stale") return; // already in the status shown: no second chime
    if (message.type === "ticket.called" || message.type === "ticket.recalled") {
      statusScreen.classList.remove("ring");
      void statusScreen.offsetWidth;
      statusScreen.classList.add("ring");
      chime();
    }
    lookup(current, false);
  });

  function chime() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      var context = new Context();
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      oscillator.frequency.value = 659.25;
      gain.gain.setValueAtTime(0.0001, context.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.5, context.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, context.currentTime + 1.2);
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start();
      oscillator.stop(context.currentTime + 1.3);
      oscillator.onended = function () {
        context.close();
      };
    } catch (error) {
      /* no sound on this device */
    }
  }

  // -- printing, idle ---------------------------------------------------------------------------------------------

  // A kiosk set up for printing (its link opened with ?print=1, Chromium --kiosk --kiosk-printing) prints the new
  // ticket once, as soon as its QR code is drawn; the address then loses &issued=1 so a reload does not print again.
  function printTicket() {
    var qr = document.querySelector("#printed-ticket .pt-qr");
    var go = function () {
      window.print();
      document.body.dataset.printed = "yes";
      if (window.history.replaceState) {
        var address = window.location.href.replace(/([?&])issued=1(&|$)/, "$1").replace(/[?&]$/, "");
        window.history.replaceState(null, "", address);
      }
    };
    if (!qr || qr.complete) setTimeout(go, 0);
    else qr.addEventListener("load", go, { once: true });
  }
  if (data.auto_print) printTicket();

  var idleTimer = null;
  function resetIdle() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () {
      window.location.assign(data.home_url);
    }, data.idle_seconds * 1000);
  }
  ["pointerdown", "keydown"].forEach(function (name) {
    document.addEventListener(name, resetIdle, { passive: true });
  });
  resetIdle();

  if (data.ticket) lookup(data.ticket, false);
})();
