// "Select all on this page" for lists with bulk actions: a checkbox with data-select-all="NAME"
// checks or clears every checkbox named NAME in its form; the count of checked rows is shown
// in any element with data-selected-count.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
  const form = box.form;
  if (!form) return;
  const name = box.dataset.selectAll;
  if (name) {
    form.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((row) => {
      row.checked = box.checked;
    });
  }
  const checked = form.querySelectorAll('input[type=checkbox][name="ids"]:checked').length;
  form.querySelectorAll("[data-selected-count]").forEach((element) => {
    element.textContent = String(checked);
  });
});
