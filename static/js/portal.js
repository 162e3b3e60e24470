// Behaviour shared by every page. No inline scripts: the Content-Security-Policy forbids them.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.matches && target.matches("[data-autosubmit]") && target.form) {
    target.form.submit();
  }
});

// A form that comes back with errors: move to its summary, so that a screen reader reads it.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("form-errors");
  if (summary) {
    summary.focus();
  }
});

// One-time form tokens (khuyenhoc/form_tokens.py) survive the Back button. When a form is
// sent, its token is written into this page's history entry; coming Back to the entry, the
// browser may fetch the form again with a fresh token and refill the fields it remembers,
// so the sent token is put back: saving again then says the form was already saved,
// instead of creating the record twice.
document.addEventListener("submit", function (event) {
  var token = event.target.querySelector && event.target.querySelector("input[name=form_token]");
  if (!token || !window.history.replaceState) {
    return;
  }
  var state = {};
  var current = window.history.state;
  if (current && typeof current === "object") {
    for (var key in current) {
      if (Object.prototype.hasOwnProperty.call(current, key)) {
        state[key] = current[key];
      }
    }
  }
  state.formToken = token.value;
  window.history.replaceState(state, "");
});

document.addEventListener("DOMContentLoaded", function () {
  var state = window.history.state;
  if (!state || !state.formToken) {
    return;
  }
  var tokens = document.querySelectorAll("input[name=form_token]");
  for (var i = 0; i < tokens.length; i++) {
    tokens[i].value = state.formToken;
  }
});
