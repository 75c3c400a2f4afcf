// "Copier l'adresse": copies the value of the field named by data-copy and says so in the
// live region named by data-status (the field stays selectable by hand without JavaScript).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var field = document.getElementById(button.dataset.copy);
  var status = document.getElementById(button.dataset.status);
  function done() { if (status) status.textContent = button.dataset.done; }
  field.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, function () {
      document.execCommand("copy"); done();
    });
  } else {
    document.execCommand("copy"); done();
  }
});
