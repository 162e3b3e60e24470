// Search-as-you-type pickers (khuyenhoc/search.py, khuyenhoc/widgets.py SearchSelect, SearchIdInput).
//
// An element with data-picker="<endpoint>" becomes a combobox: a text box whose typing asks
// the endpoint (?q=…) for at most 20 results of the user's branch, shown as a list under it.
// - On a <select>: the select stays in the form, hidden, and holds the value; a result that is
//   not one of its options is not offered (the select is the set the form accepts). It keeps
//   its id and name, visually hidden; its <label> points at the text box. A select marked
//   data-picker-open (SearchOnlySelect: a filter over hundreds of records) lists only its
//   choice: every result is offered, the one chosen becomes its option, the server checks it.
// - On an <input> (a record too numerous for a select, e.g. a member): it becomes hidden and
//   holds the chosen id.
// Without JavaScript the select (or the id box) works as it is. No inline script or style:
// the Content-Security-Policy forbids them.
(function () {
  "use strict";

  var DELAY = 200; // ms after the last key before asking
  var counter = 0;

  function optionLabel(option) {
    // The select's labels are indented with "— " per tree level.
    return option ? option.textContent.replace(/^(—\s)+/, "").trim() : "";
  }

  function Picker(field) {
    this.field = field;
    this.isSelect = field.tagName === "SELECT";
    this.url = field.getAttribute("data-picker");
    this.results = [];
    this.active = -1;
    this.timer = null;
    this.request = 0;
    this.build();
  }

  Picker.prototype.build = function () {
    var field = this.field;
    var id = field.id || "picker-" + ++counter;
    var wrapper = document.createElement("div");
    wrapper.className = "picker position-relative";
    var input = document.createElement("input");
    input.type = "text";
    input.className = "form-control";
    input.autocomplete = "off";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.placeholder = field.getAttribute("data-picker-placeholder") || "";
    var list = document.createElement("ul");
    list.className = "picker-results list-group position-absolute w-100 shadow-sm";
    list.id = id + "-results";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.setAttribute("aria-controls", list.id);
    if (field.getAttribute("aria-describedby")) {
      input.setAttribute("aria-describedby", field.getAttribute("aria-describedby"));
    }
    if (field.classList.contains("is-invalid")) {
      input.classList.add("is-invalid");
    }
    // The field keeps its id and name (what the form posts); its label points at the text box.
    input.id = id + "-search";
    var labels = document.querySelectorAll('label[for="' + id + '"]');
    for (var l = 0; l < labels.length; l++) {
      labels[l].htmlFor = input.id;
    }
    if (this.isSelect) {
      input.value = field.value ? optionLabel(field.options[field.selectedIndex]) : "";
      // Out of sight and out of the tab order, but still in the page: chosen through the text box.
      field.classList.add("visually-hidden");
      field.setAttribute("aria-hidden", "true");
      field.tabIndex = -1;
    } else {
      input.value = field.getAttribute("data-picker-label") || field.value;
      input.setAttribute("inputmode", "search");
      field.type = "hidden";
    }
    field.parentNode.insertBefore(wrapper, field);
    wrapper.appendChild(input);
    wrapper.appendChild(list);
    wrapper.appendChild(field);
    this.input = input;
    this.list = list;
    this.chosenLabel = input.value;

    var self = this;
    field.addEventListener("change", function () {
      // Chosen some other way (a script, a test): show it in the text box.
      var label = self.isSelect && field.value ? optionLabel(field.options[field.selectedIndex]) : "";
      if (self.isSelect) {
        self.chosenLabel = label;
        input.value = label;
      }
    });
    input.addEventListener("input", function () {
      self.schedule();
    });
    input.addEventListener("focus", function () {
      input.select();
    });
    input.addEventListener("keydown", function (event) {
      self.key(event);
    });
    input.addEventListener("blur", function () {
      window.setTimeout(function () {
        self.leave();
      }, 150);
    });
    list.addEventListener("mousedown", function (event) {
      event.preventDefault(); // keep the focus in the text box
    });
    list.addEventListener("click", function (event) {
      var item = event.target.closest("[data-index]");
      if (item) {
        self.choose(Number(item.getAttribute("data-index")));
      }
    });
  };

  Picker.prototype.schedule = function () {
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () {
      self.search(self.input.value);
    }, DELAY);
  };

  Picker.prototype.allowed = function (value) {
    if (!this.isSelect || this.field.hasAttribute("data-picker-open")) {
      return true; // an open select lists only its choice: the server checks the value
    }
    for (var i = 0; i < this.field.options.length; i++) {
      if (this.field.options[i].value === value) {
        return true;
      }
    }
    return false;
  };

  Picker.prototype.hasOption = function (value) {
    for (var i = 0; i < this.field.options.length; i++) {
      if (this.field.options[i].value === value) {
        return true;
      }
    }
    return false;
  };

  Picker.prototype.search = function (text) {
    var self = this;
    var number = ++this.request;
    var url = this.url + (this.url.indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(text.trim());
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { results: [] };
      })
      .then(function (data) {
        if (number !== self.request) {
          return; // an older answer arriving late
        }
        self.show(
          (data.results || []).filter(function (result) {
            return self.allowed(result.value);
          }),
          data.more
        );
      })
      .catch(function () {
        self.show([], false);
      });
  };

  Picker.prototype.show = function (results, more) {
    var list = this.list;
    this.results = results;
    this.active = results.length ? 0 : -1;
    list.textContent = "";
    if (!results.length) {
      var empty = document.createElement("li");
      empty.className = "list-group-item small text-body-secondary";
      empty.textContent = this.field.getAttribute("data-picker-empty") || "—";
      list.appendChild(empty);
    }
    for (var i = 0; i < results.length; i++) {
      var item = document.createElement("li");
      item.className = "list-group-item list-group-item-action picker-item";
      item.id = this.list.id + "-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("data-index", String(i));
      item.setAttribute("data-value", results[i].value);
      var label = document.createElement("span");
      label.textContent = results[i].label;
      item.appendChild(label);
      if (results[i].detail && results[i].detail !== results[i].label) {
        var detail = document.createElement("small");
        detail.className = "d-block text-body-secondary";
        detail.textContent = results[i].detail;
        item.appendChild(detail);
      }
      list.appendChild(item);
    }
    if (more) {
      var hint = document.createElement("li");
      hint.className = "list-group-item small text-body-secondary";
      hint.textContent = "…";
      list.appendChild(hint);
    }
    list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.highlight();
  };

  Picker.prototype.highlight = function () {
    var items = this.list.querySelectorAll(".picker-item");
    for (var i = 0; i < items.length; i++) {
      var on = i === this.active;
      items[i].classList.toggle("active", on);
      items[i].setAttribute("aria-selected", on ? "true" : "false");
    }
    if (this.active >= 0 && items[this.active]) {
      this.input.setAttribute("aria-activedescendant", items[this.active].id);
      items[this.active].scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  Picker.prototype.close = function () {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  };

  Picker.prototype.key = function (event) {
    var open = !this.list.hidden;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!open) {
        this.search(this.input.value);
      } else if (this.active < this.results.length - 1) {
        this.active++;
        this.highlight();
      }
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (open && this.active > 0) {
        this.active--;
        this.highlight();
      }
    } else if (event.key === "Enter") {
      if (open) {
        event.preventDefault(); // choosing is not sending the form
        if (this.active >= 0) {
          this.choose(this.active);
        }
      }
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        this.close();
      }
    }
  };

  Picker.prototype.setValue = function (value, label) {
    var field = this.field;
    if (this.isSelect && value !== "" && !this.hasOption(value)) {
      field.appendChild(new Option(label, value)); // an open select: the result becomes its choice
    }
    field.value = value;
    this.chosenLabel = label;
    this.input.value = label;
    field.dispatchEvent(new Event("change", { bubbles: true })); // filters that send themselves
  };

  Picker.prototype.choose = function (index) {
    var result = this.results[index];
    if (!result) {
      return;
    }
    this.close();
    this.setValue(result.value, result.label);
  };

  Picker.prototype.leave = function () {
    if (document.activeElement === this.input) {
      return;
    }
    this.close();
    if (this.input.value.trim() === "") {
      // Emptied: no choice (when the form allows none).
      if (this.field.value !== "" && (!this.isSelect || this.allowed(""))) {
        this.setValue("", "");
      }
    } else if (this.input.value !== this.chosenLabel) {
      this.input.value = this.chosenLabel; // typed but nothing chosen: back to the choice
    }
  };

  function enhance(root) {
    var fields = root.querySelectorAll("[data-picker]");
    for (var i = 0; i < fields.length; i++) {
      if (!fields[i].hasAttribute("data-picker-ready")) {
        fields[i].setAttribute("data-picker-ready", "");
        new Picker(fields[i]);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      enhance(document);
    });
  } else {
    enhance(document);
  }
})();
