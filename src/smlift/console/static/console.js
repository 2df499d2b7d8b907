// smlift console: draws a state machine with dagre and follows an execution or a job log
// over server-sent events. No framework, no network beyond the console itself.
"use strict";
var smliftConsole = (function () {
  var SVG = "http://www.w3.org/2000/svg";
  var STATUS_CLASS = {RUNNING: "st-running", SUCCEEDED: "st-succeeded", FAILED: "st-failed",
                      CAUGHT: "st-caught", ABORTED: "st-aborted"};

  function el(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // graph: {nodes: [{id, name, type, detail}], edges: [{source, target, kind, label}], groups}
  function drawGraph(container, graph) {
    var g = new dagre.graphlib.Graph({multigraph: true, compound: true});
    g.setGraph({rankdir: "TB", nodesep: 30, ranksep: 40, marginx: 10, marginy: 10});
    graph.nodes.forEach(function (n) {
      var label = n.type === "Start" || n.type === "End" ? n.name : n.name + "\n" + n.type;
      var width = Math.max(70, 7.5 * Math.max.apply(null, label.split("\n").map(function (l) { return l.length; })) + 24);
      g.setNode(n.id, {width: width, height: n.type === "Start" || n.type === "End" ? 28 : 44, node: n, label: label});
    });
    graph.groups.forEach(function (grp) {
      g.setNode(grp.id, {label: grp.label, group: true});
      grp.nodes.forEach(function (id) { if (g.hasNode(id)) g.setParent(id, grp.id); });
    });
    graph.edges.forEach(function (e, i) {
      if (e.source === e.target) return;  // a retry: shown on the node, not as a loop
      if (!g.hasNode(e.source) || !g.hasNode(e.target) || g.node(e.source).group || g.node(e.target).group) return;
      g.setEdge(e.source, e.target, {edge: e}, "e" + i);
    });
    dagre.layout(g);
    var size = g.graph();
    var svg = el("svg", {width: size.width, height: size.height, viewBox: "0 0 " + size.width + " " + size.height, role: "img"});
    var defs = el("defs");
    var marker = el("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto"});
    marker.appendChild(el("path", {d: "M 0 0 L 10 5 L 0 10 z"}));
    defs.appendChild(marker); svg.appendChild(defs);
    g.nodes().forEach(function (id) {
      var box = g.node(id);
      if (!box.group) return;
      svg.appendChild(el("rect", {class: "group", x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height, rx: 6}));
      svg.appendChild(el("text", {class: "group-label", x: box.x - box.width / 2 + 6, y: box.y - box.height / 2 + 12}, box.label));
    });
    g.edges().forEach(function (ref) {
      var edge = g.edge(ref);
      var d = edge.points.map(function (p, i) { return (i ? "L" : "M") + p.x + " " + p.y; }).join(" ");
      svg.appendChild(el("path", {class: "edge edge-" + edge.edge.kind, d: d, "marker-end": "url(#arrow)"}));
      if (edge.edge.label) {
        var mid = edge.points[Math.floor(edge.points.length / 2)];
        svg.appendChild(el("text", {class: "edge-label", x: mid.x + 4, y: mid.y - 3}, edge.edge.label.slice(0, 40)));
      }
    });
    graph.nodes.forEach(function (n) {
      var box = g.node(n.id);
      var group = el("g", {class: "node st-none type-" + n.type.toLowerCase(), "data-state": n.name, "data-type": n.type,
                           transform: "translate(" + (box.x - box.width / 2) + "," + (box.y - box.height / 2) + ")"});
      group.appendChild(el("rect", {width: box.width, height: box.height, rx: n.type === "Start" || n.type === "End" ? 14 : 5}));
      box.label.split("\n").forEach(function (line, i, all) {
        var y = box.height / 2 + (i - (all.length - 1) / 2) * 15 + 4;
        group.appendChild(el("text", {x: box.width / 2, y: y, class: i ? "type" : "name"}, line));
      });
      var title = el("title", {}, n.name + " (" + n.type + ")" + (n.detail ? "\n" + n.detail : ""));
      group.appendChild(title);
      svg.appendChild(group);
    });
    container.replaceChildren(svg);
    return svg;
  }

  function cell(row, text, className) {
    var td = row.insertCell();
    if (className) td.className = className;
    if (text !== null && text !== undefined && text !== "") {
      var pre = document.createElement(String(text).length > 60 || String(text).indexOf("\n") >= 0 ? "pre" : "span");
      pre.textContent = text;
      td.appendChild(pre);
    }
    return td;
  }

  function paintStates(snapshot, started) {
    document.querySelectorAll("#graph g.node").forEach(function (node) {
      var name = node.getAttribute("data-state"), type = node.getAttribute("data-type");
      var cls = "st-none";
      if (type === "Start") cls = "st-succeeded";
      else if (type === "End") cls = snapshot.execution.status === "SUCCEEDED" ? "st-succeeded" : "st-none";
      else if (snapshot.states[name]) cls = STATUS_CLASS[snapshot.states[name].status] || "st-none";
      node.classList.remove("st-none", "st-running", "st-succeeded", "st-failed", "st-caught", "st-aborted");
      node.classList.add(cls);
    });
    var body = document.querySelector("#states tbody");
    body.replaceChildren();
    Object.keys(snapshot.states).forEach(function (name) {
      var s = snapshot.states[name];
      var row = body.insertRow();
      row.setAttribute("data-state", name);
      row.setAttribute("data-status", s.status);
      cell(row, name, "state-name");
      cell(row, s.status, "status s-" + s.status.toLowerCase());
      cell(row, s.input, "state-input");
      cell(row, s.output, "state-output");
      cell(row, s.error, "state-error");
      cell(row, s.cause, "state-cause");
      var job = snapshot.jobs[name];
      var td = row.insertCell();
      if (job) {
        var a = document.createElement("a");
        a.href = "/jobs/" + encodeURIComponent(job.name);
        a.textContent = job.name + " (" + job.status + ")";
        a.className = "job-link";
        td.appendChild(a);
      }
    });
  }

  function showExecution(snapshot) {
    var e = snapshot.execution;
    var status = document.getElementById("status");
    status.textContent = e.status;
    status.className = "status s-" + e.status.toLowerCase();
    document.getElementById("stop").disabled = e.status !== "RUNNING";
    var error = document.getElementById("execution-error");
    if (e.error || e.cause) {
      error.hidden = false;
      document.getElementById("error").textContent = e.error || "";
      document.getElementById("cause").textContent = e.cause || "";
    }
    document.getElementById("execution-output").textContent = e.output || "";
    var body = document.querySelector("#events tbody");
    snapshot.events.forEach(function (ev) {
      if (body.querySelector('tr[data-id="' + ev.id + '"]')) return;
      var row = body.insertRow();
      row.setAttribute("data-id", ev.id);
      row.setAttribute("data-type", ev.type);
      cell(row, ev.id); cell(row, ev.previousEventId); cell(row, ev.type, "event-type");
      cell(row, ev.timestamp); cell(row, ev.details, "event-details");
    });
    paintStates(snapshot);
    document.body.setAttribute("data-execution-status", e.status);
  }

  function followExecution(url) {
    drawGraph(document.getElementById("graph"), JSON.parse(document.getElementById("graph-data").textContent));
    var first = JSON.parse(document.getElementById("snapshot-data").textContent);
    showExecution(first);
    if (first.ended) { document.body.setAttribute("data-live", "ended"); return; }
    var last = first.events.length ? first.events[first.events.length - 1].id : 0;
    var source = new EventSource(url + "?after=" + last);
    document.body.setAttribute("data-live", "following");
    source.onmessage = function (message) { showExecution(JSON.parse(message.data)); };
    source.addEventListener("end", function () { source.close(); document.body.setAttribute("data-live", "ended"); });
  }

  function followLog(url) {
    var log = document.getElementById("log");
    var state = document.getElementById("log-state");
    var source = new EventSource(url);
    source.onmessage = function (message) {
      log.appendChild(document.createTextNode(JSON.parse(message.data) + "\n"));
      log.scrollTop = log.scrollHeight;
    };
    source.addEventListener("end", function (message) {
      source.close();
      var status = JSON.parse(message.data);
      state.textContent = "the job ended: " + status;
      var badge = document.getElementById("job-status");
      badge.textContent = status;
      badge.className = "status s-job-" + String(status).toLowerCase();
      document.body.setAttribute("data-log", "ended");
    });
  }

  return {drawGraph: drawGraph, followExecution: followExecution, followLog: followLog};
})();
