/*
 * UCE Pods — the log-activity form: the account combobox and focus management.
 *
 * The account search box is an ARIA 1.2 combobox: htmx fetches the matching accounts into its
 * listbox as the user types; this module lets the keyboard drive it (Down/Up move through the
 * options, Enter picks one, Escape closes the list), writes the chosen account's id into the
 * hidden `account` input and fires `change` on it so the contact picker reloads (htmx).
 *
 * Focus: any swapped-in element (or the page itself) may carry data-focus="<element id>"; focus
 * moves there — to the first field in error, back to the account search after a save, to the
 * list's heading after a deletion, to the Delete button of a confirmation.
 */
(function () {
  "use strict";

  function listFor(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }

  function partsOf(input) {
    var root = input.closest("[data-combobox]");
    return {
      list: listFor(input),
      value: root.querySelector("[data-combobox-value]"),
      status: root.querySelector("[data-combobox-status]"),
    };
  }

  function choosable(list) {
    return list ? Array.prototype.slice.call(list.querySelectorAll('[role="option"]:not([aria-disabled="true"])')) : [];
  }

  function isOpen(input) {
    return input.getAttribute("aria-expanded") === "true";
  }

  function open(input) {
    var list = listFor(input);
    if (list && list.children.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
  }

  function close(input) {
    var list = listFor(input);
    if (list) {
      list.hidden = true;
    }
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function activeOption(input) {
    var id = input.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }

  function setActive(input, option) {
    choosable(listFor(input)).forEach(function (each) {
      each.setAttribute("aria-selected", each === option ? "true" : "false");
      each.classList.toggle("is-active", each === option);
    });
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function move(input, step) {
    var options = choosable(listFor(input));
    if (!options.length) {
      return;
    }
    open(input);
    var index = options.indexOf(activeOption(input));
    if (index === -1) {
      index = step > 0 ? 0 : options.length - 1;
    } else {
      index = (index + step + options.length) % options.length;
    }
    setActive(input, options[index]);
  }

  function announce(input, text) {
    var status = partsOf(input).status;
    if (status) {
      status.textContent = text;
    }
  }

  function setAccount(input, id) {
    var value = partsOf(input).value;
    if (value.value !== id) {
      value.value = id;
      // htmx listens for this (hx-trigger="change from:#id_account") to reload the contacts.
      value.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function choose(input, option) {
    input.value = option.dataset.label;
    input.dataset.chosenLabel = option.dataset.label;
    setAccount(input, option.dataset.value);
    close(input);
    document.querySelectorAll("[data-zone-label]").forEach(function (label) {
      label.textContent = option.dataset.timezone;
    });
    announce(input, option.dataset.label + " chosen.");
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target.closest("[data-combobox-input]");
    if (!input) {
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(input, event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && isOpen(input)) {
      // Enter picks the highlighted account (or the only/first one) instead of submitting the form.
      var option = activeOption(input) || choosable(listFor(input))[0];
      event.preventDefault();
      if (option) {
        choose(input, option);
      }
    } else if (event.key === "Escape" && isOpen(input)) {
      event.preventDefault();
      close(input);
    }
  });

  // Typing something else than the chosen account's label un-chooses it.
  document.addEventListener("input", function (event) {
    var input = event.target.closest("[data-combobox-input]");
    if (input && input.value !== input.dataset.chosenLabel) {
      delete input.dataset.chosenLabel;
      setAccount(input, "");
    }
  });

  // Mouse: pick on mousedown, before the input loses focus (which closes the list).
  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest('[role="listbox"] [role="option"]:not([aria-disabled="true"])');
    if (!option) {
      return;
    }
    var input = document.querySelector('[aria-controls="' + option.parentElement.id + '"]');
    if (input) {
      event.preventDefault();
      choose(input, option);
      input.focus();
    }
  });

  document.addEventListener("focusout", function (event) {
    var input = event.target.closest && event.target.closest("[data-combobox-input]");
    if (input) {
      close(input);
    }
  });

  function listLoaded(list) {
    var input = document.querySelector('[aria-controls="' + list.id + '"]');
    if (!input) {
      return;
    }
    var chosen = input.dataset.chosenLabel && input.value === input.dataset.chosenLabel;
    if (chosen || document.activeElement !== input || list.hidden) {
      // A late answer after an account was picked, or the user has moved on.
      close(input);
      return;
    }
    open(input);
    input.removeAttribute("aria-activedescendant");
    var count = choosable(list).length;
    announce(
      input,
      count ? count + (count === 1 ? " account" : " accounts") + " found; use Down and Up to choose." : "No account found."
    );
  }

  function focusRequested(element) {
    var holder = element.matches && element.matches("[data-focus]") ? element : element.querySelector("[data-focus]");
    var id = holder && holder.getAttribute("data-focus");
    var target = id && document.getElementById(id);
    if (target) {
      target.focus();
      if (target.select && target.getAttribute("aria-invalid") === "true") {
        target.select();
      }
    }
  }

  htmx.onLoad(function (element) {
    if (element.id === "account-options") {
      listLoaded(element);
      return;
    }
    // The chosen label of a re-rendered form (errors kept what was chosen) stays "chosen".
    element.querySelectorAll("[data-combobox-input]").forEach(function (input) {
      if (partsOf(input).value.value) {
        input.dataset.chosenLabel = input.value;
      }
    });
    focusRequested(element);
  });
})();
