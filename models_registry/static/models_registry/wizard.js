// The Add Model wizard: filter the provider list as you type; show only the inputs of the
// chosen credential source.
(function () {
  "use strict";

  function filterProviders(input) {
    var select = document.getElementById(input.getAttribute("data-filter-for"));
    if (!select) {
      return;
    }
    var needle = input.value.trim().toLowerCase();
    var firstVisible = null;
    Array.prototype.forEach.call(select.options, function (option) {
      var match = !needle || option.text.toLowerCase().indexOf(needle) !== -1 || option.value.indexOf(needle) !== -1;
      option.hidden = !match;
      if (match && firstVisible === null) {
        firstVisible = option;
      }
    });
    if (firstVisible && (select.selectedIndex === -1 || select.options[select.selectedIndex].hidden)) {
      firstVisible.selected = true;
    }
  }

  function applySource() {
    var checked = document.querySelector('input[name="credentials-source"]:checked');
    if (!checked) {
      return;
    }
    var existing = checked.value === "existing";
    document.querySelectorAll(".wizard-fields .form-row").forEach(function (row) {
      var isExistingRow = row.classList.contains("field-existing");
      var always = row.classList.contains("field-source") || row.classList.contains("field-extra_params") ||
        row.classList.contains("field-model_info");
      if (always) {
        return;
      }
      if (isExistingRow) {
        row.hidden = !existing;
      } else if (existing) {
        row.hidden = true;
      } else if (!row.querySelector("[data-show-when]")) {
        row.hidden = false;
      }
    });
    var auth = document.querySelector('[name$="auth_method"]');
    if (auth && !existing) {
      auth.dispatchEvent(new Event("change"));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var search = document.querySelector("input[data-filter-for]");
    if (search) {
      search.addEventListener("input", function () {
        filterProviders(search);
      });
    }
    document.querySelectorAll('input[name="credentials-source"]').forEach(function (radio) {
      radio.addEventListener("change", applySource);
    });
    applySource();
  });
})();
