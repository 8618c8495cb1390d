/* The device set-up page (/live/device#<token>): the token after "#" never reaches the server in a URL (nor its
 * access logs). Take it out of the address bar, put it in the form and post it; without one, the technician pastes
 * the token and presses Set up. */
(function () {
  "use strict";

  var token = window.location.hash.replace(/^#/, "");
  if (!token) return;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  document.getElementById("device-token").value = decodeURIComponent(token);
  document.getElementById("device-form").submit();
})();
