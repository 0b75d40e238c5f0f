/* kisekae admin: the little script the pages use (no inline script: the CSP
 * forbids it). Without it every page still works; it adds drag and drop of
 * layer files and the live preview of the item form. */
(function () {
  "use strict";

  /* Item form: files dropped on the zone fill the empty layer inputs in turn. */
  function setupDropzone(zone) {
    var form = zone.closest("form");
    zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      zone.classList.remove("over");
      var files = Array.prototype.slice.call(e.dataTransfer.files);
      var inputs = form.querySelectorAll("input[type=file][data-layer]");
      for (var i = 0; i < inputs.length && files.length; i++) {
        if (inputs[i].files.length) continue;
        var dt = new DataTransfer();
        dt.items.add(files.shift());
        inputs[i].files = dt.files;
        inputs[i].dispatchEvent(new Event("change", { bubbles: true }));
      }
      if (files.length) {
        zone.textContent = files.length + " file(s) left over: there are only " + inputs.length + " layer slots.";
      }
    });
  }

  /* The preview: the form (files and all) posted to data-preview-url, the PNG shown. */
  function setupPreview(button) {
    var form = button.closest("form");
    var stage = document.getElementById("preview-stage");
    var status = document.getElementById("preview-status");
    button.addEventListener("click", function () {
      var data = new FormData(form);
      button.disabled = true;
      status.textContent = "Drawing the preview…";
      fetch(button.getAttribute("data-preview-url"), { method: "POST", body: data, credentials: "same-origin" })
        .then(function (answer) {
          var type = answer.headers.get("Content-Type") || "";
          if (answer.ok && type.indexOf("image/png") === 0) {
            return answer.blob().then(function (blob) {
              var img = document.createElement("img");
              img.id = "preview-image";
              img.alt = "Preview on the mannequin";
              img.src = URL.createObjectURL(blob);
              stage.replaceChildren(img);
              status.textContent = "Preview on the mannequin. Nothing is saved yet.";
            });
          }
          return answer.text().then(function (text) {
            status.textContent = "";
            var p = document.createElement("p");
            p.className = "form-error";
            p.id = "preview-error";
            p.textContent = text || ("The preview failed (" + answer.status + ").");
            stage.replaceChildren(p);
          });
        })
        .catch(function () {
          status.textContent = "The preview could not be fetched.";
        })
        .then(function () { button.disabled = false; });
    });
  }

  /* Forms whose submit button asks first (data-confirm). */
  function setupConfirm(form) {
    form.addEventListener("submit", function (e) {
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) e.preventDefault();
    });
  }


  /* Image server page: "Move members off" posts batch after batch (MoveAvatars)
   * and draws the progress, and the members left, until none remain. */
  function setupMoveOff(form) {
    var box = document.getElementById("move-progress-box");
    var bar = document.getElementById("move-progress");
    var status = document.getElementById("move-status");
    var button = form.querySelector("button[type=submit]");
    var count = document.getElementById("server-members");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var total = parseInt(form.getAttribute("data-members"), 10) || 0;
      var moved = 0, calls = 0;
      box.hidden = false;
      button.disabled = true;
      bar.max = Math.max(total, 1);
      status.textContent = "Moving…";
      function finish(text, failed) {
        status.textContent = text;
        if (failed) status.className = "form-error";
        button.disabled = false;
      }
      function batch() {
        calls++;
        fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                             headers: { "Accept": "application/json" } })
          .then(function (answer) { return answer.json(); })
          .then(function (r) {
            moved += r.moved;
            bar.max = Math.max(moved + r.remaining, 1);
            bar.value = moved;
            if (count) count.textContent = r.remaining;
            status.textContent = "Moved " + moved + "; " + r.remaining + " remain.";
            if (r.error) return finish(r.error + " (moved " + moved + ")", true);
            if (r.stoppedBy) return finish("Stopped: " + r.stoppedBy + " (moved " + moved + "; " + r.remaining + " remain)", true);
            if (r.remaining > 0 && r.moved > 0 && calls < 100000) return batch();
            if (r.remaining > 0) return finish("Nothing moved in the last call; " + r.remaining + " remain.", true);
            finish("Done: moved " + moved + "; none remain.", false);
          })
          .catch(function () { finish("The admin server did not answer (moved " + moved + ").", true); });
      }
      batch();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".dropzone"), setupDropzone);
    Array.prototype.forEach.call(document.querySelectorAll("[data-preview-url]"), setupPreview);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), setupConfirm);
    Array.prototype.forEach.call(document.querySelectorAll("#move-off-form"), setupMoveOff);
  });
})();
