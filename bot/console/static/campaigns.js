// Campaign composer: live audience count and message preview (no framework, no inline JS).
(function () {
  "use strict";
  var form = document.getElementById("composer");
  if (!form) return;
  var count = document.getElementById("audience-count");
  var preview = document.getElementById("preview-text");
  var text = document.getElementById("c-text");

  function refreshCount() {
    var params = new URLSearchParams();
    params.set("channel", form.elements.channel.value);
    form.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
      params.append(box.name, box.value);
    });
    fetch("/operator/admin/campaigns/audience?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) count.textContent = String(data.recipients); });
  }

  form.addEventListener("change", refreshCount);
  text.addEventListener("input", function () { preview.textContent = text.value; });
  refreshCount();
})();
