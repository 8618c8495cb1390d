/* Entrance desk: the Print button prints the ticket slip (only the slip prints: osbp.css @media print).
 * A static file because the CSP allows no inline script. */
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
