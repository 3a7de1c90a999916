/*
 * UCE Pods — page behaviour shared by every screen.
 *
 * Loaded with `defer` from base.html; no inline scripts anywhere, so a strict Content Security
 * Policy can be switched on later.  Charts are added here on htmx.onLoad by the dashboard work.
 */
(function () {
  "use strict";

  var messages = function () {
    return document.getElementById("messages");
  };

  // Dismiss buttons on flash messages (event delegation also covers messages swapped in by htmx).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (button) {
      var message = button.closest(".message");
      if (message) {
        message.remove();
      }
    }
  });

  // A failed htmx request would otherwise change nothing on screen: say so in the messages area.
  function showError(text) {
    var area = messages();
    if (!area) {
      return;
    }
    var message = document.createElement("div");
    message.className = "message message-error";
    var span = document.createElement("span");
    span.textContent = text;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "message-dismiss";
    button.setAttribute("aria-label", "Dismiss message");
    button.setAttribute("data-dismiss", "");
    button.textContent = "\u00d7";
    message.append(span, button);
    area.append(message);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : "";
    showError("The page could not be updated (error " + status + "). Please reload and try again.");
  });

  document.addEventListener("htmx:sendError", function () {
    showError("The server could not be reached. Check your connection and try again.");
  });
})();
