/* The live pages' sequence (docs/live.md, "Snapshots, sequence and resync"), loaded before board.js, kiosk.js,
 * counter.js and supervisor.js.
 *
 * Every event of a post carries the post's live number ("seq"); every snapshot (the page's whole state, read again
 * from the server) carries the number read before its state. A page keeps the number of what it shows:
 * - an event numbered below it, or equal to a snapshot's, is already shown: "stale", ignored;
 * - the next number, or the number of an event just applied (one request may send several): "apply";
 * - further on: events were missed (lost while the message queue was down, or still on their way): "gap", applied,
 *   and the page reads its snapshot again. A page that sees only some of the post's events (a kiosk follows one
 *   ticket) is made with {gaps: false}.
 * A snapshot older than what the page shows is not drawn (snapshot() says false); a page still behind asks again.
 * OsbpLive.soon(fn) runs fn after a random pause of up to 300 ms, so that after a "resync" (the message queue came
 * back) the pages of a hall do not all ask at the same moment.
 * body[data-live-seq] shows the number (and body[data-snapshots] counts the snapshots drawn), for tests and support. */
(function (root) {
  "use strict";

  var SPREAD_MS = 300;

  function show(name, value) {
    if (typeof document !== "undefined" && document.body) document.body.dataset[name] = String(value);
  }

  function Sequence(initial, options) {
    this.seq = typeof initial === "number" && isFinite(initial) ? initial : null;
    this.fromSnapshot = this.seq !== null;
    this.gaps = !(options && options.gaps === false);
    this.behind = false; // a snapshot is wanted: a gap, a resync, a reconnection
    this.snapshots = 0;
    if (this.seq !== null) show("liveSeq", this.seq);
  }

  // What to do with an event numbered seq: "apply", "stale" or "gap".
  Sequence.prototype.event = function (seq) {
    if (typeof seq !== "number" || !isFinite(seq)) return "apply"; // an event of no post (session.revoked)
    if (this.seq === null) {
      this.seq = seq;
      this.fromSnapshot = false;
      show("liveSeq", seq);
      return "apply";
    }
    if (seq < this.seq || (seq === this.seq && this.fromSnapshot)) return "stale";
    var gap = this.gaps && seq > this.seq + 1;
    if (seq > this.seq) {
      this.seq = seq;
      this.fromSnapshot = false;
      show("liveSeq", seq);
    }
    if (gap) this.behind = true;
    return gap ? "gap" : "apply";
  };

  // A snapshot numbered seq arrived: true to draw it, false when it is older than what the page shows.
  Sequence.prototype.snapshot = function (seq) {
    if (typeof seq !== "number" || !isFinite(seq)) return true;
    if (this.seq !== null && seq < this.seq) return false;
    this.seq = seq;
    this.fromSnapshot = true;
    this.behind = false;
    this.snapshots += 1;
    show("liveSeq", seq);
    show("snapshots", this.snapshots);
    return true;
  };

  // The page must read its snapshot again (reconnection, "resync").
  Sequence.prototype.want = function () {
    this.behind = true;
  };

  function soon(fn) {
    return setTimeout(fn, Math.floor(Math.random() * SPREAD_MS));
  }

  // A number from a data attribute ("" or missing: none).
  function number(text) {
    return text === undefined || text === null || text === "" ? null : Number(text);
  }

  var api = { Sequence: Sequence, soon: soon, number: number, SPREAD_MS: SPREAD_MS };
  root.OsbpLive = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : this);
