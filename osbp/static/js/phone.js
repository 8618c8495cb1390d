/* A ticket's page on a phone (/t/<code>): polls /t/<code>/status and redraws the status without reloading.
 * Every sentence comes translated from the server (the JSON's "view" and "status"); nothing is composed here.
 * Polls every refresh_seconds while the page is visible, at once when it becomes visible again, and waits as long
 * as the server's Retry-After says after a 429. Stops when the ticket is done or closed. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("phone-data").textContent);
  var timer = null;
  var finished = document.body.dataset.tone === "done" || document.body.dataset.tone === "closed";

  function $(id) {
    return document.getElementById(id);
  }

  // Only what changed is written: a screen reader announces the live part (#p-now) when it really changes.
  function set(id, value) {
    var element = $(id);
    if (element.textContent !== value) element.textContent = value;
  }

  function text(id, value) {
    set(id, value || "");
    $(id).hidden = !value;
  }

  function list(id, items, className) {
    var element = $(id);
    element.textContent = "";
    items.forEach(function (item) {
      var entry = document.createElement("li");
      if (className) entry.className = className(item);
      entry.textContent = typeof item === "string" ? item : item.label;
      element.appendChild(entry);
    });
  }

  function render(body) {
    var status = body.status;
    var view = body.view;
    var before = document.body.dataset.tone;
    document.body.dataset.tone = view.tone;
    set("p-code", status.code);
    set("p-headline", view.headline);
    text("p-detail", view.detail);
    text("p-message", view.message);
    set("p-step", status.current_step ? status.current_step.label : "—");
    var places = status.station ? [status.station] : status.stations;
    set(
      "p-station",
      places.length
        ? places
            .map(function (place) {
              return place.name;
            })
            .join(" / ")
        : "—"
    );
    list("p-steps", status.steps, function (step) {
      return "route-step " + step.state;
    });
    list("p-documents", status.documents);
    set("p-updated", view.updated);
    if (view.tone === "called" && before !== "called") ring();
    finished = view.tone === "done" || view.tone === "closed";
  }

  function ring() {
    var now = $("p-now");
    now.classList.remove("ring");
    void now.offsetWidth;
    now.classList.add("ring");
    if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
  }

  function schedule(seconds) {
    clearTimeout(timer);
    if (finished) return;
    timer = setTimeout(poll, seconds * 1000);
  }

  function poll() {
    if (document.hidden) return; // polled again when the page is visible
    fetch(data.status_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        var retry = parseInt(response.headers.get("Retry-After") || "0", 10);
        return response.json().then(function (body) {
          return { status: response.status, body: body, retry: retry };
        });
      })
      .then(function (result) {
        $("p-offline").hidden = true;
        if (result.status === 200) {
          render(result.body);
          schedule(data.refresh_seconds);
        } else if (result.status === 429) {
          schedule(Math.max(result.retry, data.refresh_seconds));
        } else {
          window.location.reload(); // the ticket is gone (another day): the server's page says so
        }
      })
      .catch(function () {
        $("p-offline").hidden = false;
        schedule(data.refresh_seconds);
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !finished) poll();
  });
  document.body.dataset.live = "yes";
  schedule(data.refresh_seconds);
})();
