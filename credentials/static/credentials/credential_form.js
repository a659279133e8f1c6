// Credential forms: show only the fields of the chosen authentication method, and swap the
// provider's fields in place when the provider changes (what was typed elsewhere stays).
(function () {
  "use strict";

  function applyAuthMethod() {
    var auth = document.querySelector('[name$="auth_method"]');
    var method = auth ? auth.value : null;
    document.querySelectorAll("[data-show-when]").forEach(function (input) {
      var row = input.closest(".form-row") || input.parentElement;
      var allowed = input.getAttribute("data-show-when").split(" ");
      row.hidden = method !== null && allowed.indexOf(method) === -1;
    });
  }

  function bindAuthMethod() {
    var auth = document.querySelector('[name$="auth_method"]');
    if (auth) {
      auth.addEventListener("change", applyAuthMethod);
    }
    applyAuthMethod();
  }

  function swapProviderFields(select) {
    var url = new URL(window.location.href);
    url.searchParams.set("provider", select.value);
    select.disabled = true;
    fetch(url.toString(), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var incoming = fresh.querySelector("fieldset.provider-fields");
        var current = document.querySelector("fieldset.provider-fields");
        if (!incoming || !current) {
          throw new Error("no provider fields in the page");
        }
        current.replaceWith(document.importNode(incoming, true));
        window.history.replaceState(null, "", url.toString());
        bindAuthMethod();
        document.dispatchEvent(new CustomEvent("litecreds:provider-swapped", { detail: select.value }));
      })
      .catch(function () {
        window.location.assign(url.toString()); // fall back to the two-step flow
      })
      .finally(function () {
        select.disabled = false;
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    bindAuthMethod();
    var provider = document.querySelector('select[name="provider"][data-swap]');
    if (provider) {
      provider.addEventListener("change", function () {
        swapProviderFields(provider);
      });
    }
    var chooser = document.querySelector("select[data-autosubmit]");
    if (chooser) {
      chooser.addEventListener("change", function () {
        chooser.form.submit();
      });
    }
  });
})();
