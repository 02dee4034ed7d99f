// The console's only script (no inline scripts: the CSP forbids them). It follows a job's
// log, draws its usage chart and uploads files with progress; htmx does the live tables.
"use strict";

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  } catch (e) {
    return "";
  }
}

// The log: one streamed request that ends when the job's output does.
async function followLog(pre) {
  const response = await fetch(pre.dataset.src, { credentials: "same-origin" });
  if (!response.ok) {
    pre.textContent = "The log is not available (" + response.status + ").";
    pre.dataset.done = "true";
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(document.createTextNode(decoder.decode(value, { stream: true })));
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }
  pre.dataset.done = "true";
}

// The usage chart: the samples the server keeps of the job (one every 5 s while a page shows
// it: this asking is what keeps it sampled), then the new ones every 5 s while it runs
// (answered from memory: no query, no engine call).
function drawChart(box) {
  const data = [[], [], [], []];
  const width = () => Math.max(280, Math.min(box.clientWidth || 640, 960));
  const plot = new uPlot(
    {
      width: width(),
      height: 240,
      series: [
        {},
        { label: "CPU (cores)", stroke: "#1f77b4", scale: "cpu" },
        { label: "Memory (MiB)", stroke: "#2ca02c", scale: "mem" },
        { label: "GPU (%)", stroke: "#d62728", scale: "gpu" },
      ],
      axes: [
        {},
        { scale: "cpu", values: (u, ticks) => ticks.map((v) => +v.toPrecision(3)) },
        { scale: "mem", side: 1, values: (u, ticks) => ticks.map((v) => +v.toPrecision(4)) },
      ],
    },
    data,
    box
  );
  window.addEventListener("resize", () => plot.setSize({ width: width(), height: 240 }));
  box.dataset.points = "0";
  let since = 0;
  async function fetchSamples() {
    const response = await fetch(box.dataset.src + "?since=" + since, { credentials: "same-origin" });
    if (!response.ok) return false;
    const answer = await response.json();
    for (const [time, cpu, memory, gpu] of answer.samples) {
      data[0].push(time);
      data[1].push(cpu);
      data[2].push(memory);
      data[3].push(gpu);
      since = time;
    }
    if (answer.samples.length) plot.setData(data);
    box.dataset.points = String(data[0].length);
    return !answer.finished;
  }
  (async () => {
    let going = true;
    while (going) {
      going = await fetchSamples().catch(() => false);
      if (going) await new Promise((resolve) => setTimeout(resolve, 5000));
    }
    box.dataset.done = "true";
  })();
}

// Uploads: one PUT per file (folders keep their relative paths), with overall progress.
function uploadFiles(box, files) {
  const progress = box.querySelector("progress");
  const status = box.querySelector("[role=status]");
  const total = files.reduce((sum, f) => sum + f.size, 0) || 1;
  let done = 0;
  progress.max = total;
  const one = (file) =>
    new Promise((resolve, reject) => {
      const name = file.webkitRelativePath || file.name;
      const target = box.dataset.target + "/" + name.split("/").map(encodeURIComponent).join("/");
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", target);
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = (e) => {
        progress.value = done + e.loaded;
        status.textContent = "Uploading " + name + "…";
      };
      xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error(name + ": " + xhr.status)));
      xhr.onerror = () => reject(new Error(name + ": network error"));
      xhr.send(file);
    }).then(() => {
      done += file.size;
      progress.value = done;
    });
  (async () => {
    try {
      for (const file of files) await one(file);
      status.textContent = "Uploaded " + files.length + " file(s).";
      box.dataset.done = "true";
      window.location.reload();
    } catch (e) {
      status.textContent = "Upload failed: " + e.message;
      box.dataset.failed = "true";
    }
  })();
}

document.addEventListener("DOMContentLoaded", () => {
  const log = document.getElementById("log");
  if (log && log.dataset.src) followLog(log);
  const chart = document.getElementById("chart");
  if (chart && chart.dataset.src && window.uPlot) drawChart(chart);
  const upload = document.getElementById("upload");
  if (upload) {
    for (const input of upload.querySelectorAll("input[type=file]")) {
      input.addEventListener("change", () => uploadFiles(upload, Array.from(input.files)));
    }
  }
});
