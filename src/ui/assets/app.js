// The web view's page: the list of scalers, and the selected scaler's charts (uPlot), events and
// models, refreshed whenever the operator reports a reconcile. Everything shown comes from the
// cluster and is rendered as text (textContent), never parsed as HTML.
'use strict';

(function () {
  /** Polling period when live updates are unavailable (too many pages open, or a proxy drops them). */
  const POLL_MS = 10000;
  /** The replica chart spans at least this much time. */
  const MIN_REPLICA_SPAN_MS = 5 * 60 * 1000;
  const COLORS = { observed: '#1f77b4', forecast: '#e6550d', band: 'rgba(230, 85, 13, 0.15)', bandEdge: 'rgba(230, 85, 13, 0.45)', replicas: '#1f77b4', desired: '#e6550d', ready: '#2ca02c', event: 'rgba(120, 120, 120, 0.6)', now: 'rgba(0, 0, 0, 0.35)' };

  const state = { selected: decodeURIComponent(location.hash.slice(1)) || null, charts: new Map(), events: [], loadingList: false, pollTimer: null };

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    return node;
  }

  function byId(id) {
    return document.getElementById(id);
  }

  async function getJson(path) {
    const response = await fetch(path, { cache: 'no-store', headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  function showProblem(message) {
    const problem = byId('problem');
    problem.hidden = !message;
    problem.textContent = message || '';
  }

  function orDash(value) {
    return value === null || value === undefined ? '—' : String(value);
  }

  function conditionHealth(c) {
    const goodWhenTrue = c.type === 'Ready' || c.type === 'ForecastAvailable' || c.type === 'AbleToScale';
    if (c.status === 'Unknown') return 'warn';
    if (goodWhenTrue) return c.status === 'True' ? 'good' : c.reason === 'ForecastOnly' || c.reason === 'Paused' || c.reason === 'ModeOff' ? 'warn' : 'bad';
    return c.status === 'True' ? (c.type === 'Degraded' ? 'bad' : 'warn') : 'good';
  }

  function keyOf(s) {
    return `${s.namespace}/${s.name}`;
  }

  // --- the list ---------------------------------------------------------------------------------

  function renderList(list) {
    const body = byId('scalers').tBodies[0];
    const rows = list.scalers.map((s) => {
      const row = el('tr', null, { 'data-key': keyOf(s), 'aria-selected': keyOf(s) === state.selected });
      row.append(el('td', keyOf(s)), el('td', s.target));
      row.append(el('td', s.paused ? `${s.mode} (paused)` : s.mode));
      row.append(el('td', `${orDash(s.currentReplicas)} / ${orDash(s.desiredReplicas)} / ${orDash(s.readyReplicas)}`, { class: 'num' }));
      row.append(el('td', orDash(s.model)));
      row.append(el('td', s.leadTime ? `${s.leadTime}${s.leadTimeSource ? ` (${s.leadTimeSource})` : ''}` : '—'));
      const conditions = el('td');
      for (const c of s.conditions) {
        conditions.append(el('span', `${c.type}: ${c.reason || c.status}`, { class: 'chip', 'data-health': conditionHealth(c), title: `${c.type}=${c.status} ${c.reason}: ${c.message}` }));
      }
      row.append(conditions);
      row.addEventListener('click', () => select(keyOf(s)));
      return row;
    });
    if (rows.length === 0) {
      const empty = el('tr');
      empty.append(el('td', 'No PredictiveScaler is watched yet.', { colspan: 7, class: 'muted' }));
      rows.push(empty);
    }
    body.replaceChildren(...rows);
    const notes = [];
    if (list.omitted > 0) notes.push(`${list.omitted} more scalers are not listed.`);
    if (list.timelineFull) notes.push('The web view keeps charts for a bounded number of scalers; some scalers have none.');
    byId('list-note').hidden = notes.length === 0;
    byId('list-note').textContent = notes.join(' ');
    const keys = list.scalers.map(keyOf);
    if (!state.selected || !keys.includes(state.selected)) {
      if (keys.length > 0) select(keys[0]);
      else byId('detail').hidden = true;
    }
  }

  async function refreshList() {
    if (state.loadingList) return;
    state.loadingList = true;
    try {
      renderList(await getJson('api/scalers'));
      showProblem('');
    } catch (err) {
      showProblem(`could not load the scalers: ${err.message}`);
    } finally {
      state.loadingList = false;
    }
  }

  function select(key) {
    if (state.selected !== key) {
      destroyCharts();
      state.selected = key;
      history.replaceState(null, '', `#${encodeURIComponent(key)}`);
    }
    for (const row of byId('scalers').tBodies[0].rows) row.setAttribute('aria-selected', String(row.getAttribute('data-key') === key));
    refreshDetail();
  }

  // --- the selected scaler ------------------------------------------------------------------------

  async function refreshDetail() {
    const key = state.selected;
    if (!key) return;
    const [namespace, name] = key.split('/');
    try {
      const detail = await getJson(`api/scalers/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`);
      if (state.selected === key) renderDetail(detail);
    } catch (err) {
      showProblem(`could not load ${key}: ${err.message}`);
    }
  }

  function renderDetail(detail) {
    const s = detail.summary;
    byId('detail').hidden = false;
    byId('detail-heading').textContent = `${keyOf(s)} → ${s.target}`;
    byId('detail-explanation').textContent = s.explanation || 'No decision yet.';
    byId('detail').setAttribute('data-reconciled-at', String(s.lastReconciledAt ?? ''));
    byId('detail-updated').textContent = s.lastReconciledAt === null ? 'Not reconciled since the operator started.' : `Last reconciled ${new Date(s.lastReconciledAt).toLocaleTimeString()}.`;
    renderDemand(detail.demand);
    renderReplicas(detail.replicas, detail.events);
    renderEvents(detail.events);
    renderModels(detail.models);
  }

  function renderDemand(charts) {
    const box = byId('demand-charts');
    const wanted = new Set(charts.map((c) => `demand:${c.metric}`));
    for (const id of [...state.charts.keys()]) {
      if (!id.startsWith('demand:') || wanted.has(id)) continue;
      state.charts.get(id).plot.destroy();
      state.charts.delete(id);
      for (const node of box.querySelectorAll(`[data-chart-id="${CSS.escape(id)}"]`)) node.remove();
    }
    box.querySelector('.note')?.remove();
    if (charts.length === 0) box.append(el('p', 'No demand recorded yet: no reconcile has read the metrics.', { class: 'note' }));
    for (const c of charts) {
      const planningLabel = c.planningSource === 'mean' ? 'forecast (mean)' : `forecast p${Math.round(c.quantile * 100)}`;
      draw(`demand:${c.metric}`, box, `Demand: ${c.metric} (observed, then forecast with its p5..p95 band)`, [c.times, c.observed, c.lower, c.planning, c.upper], () => ({
        series: [
          {},
          { label: 'observed', stroke: COLORS.observed, width: 1.5 },
          { label: 'p5', stroke: COLORS.bandEdge, width: 1, dash: [4, 4] },
          { label: planningLabel, stroke: COLORS.forecast, width: 2 },
          { label: 'p95', stroke: COLORS.bandEdge, width: 1, dash: [4, 4] },
        ],
        bands: [{ series: [4, 2], fill: COLORS.band }],
        hooks: { draw: [(u) => verticalLines(u, [Date.now()], COLORS.now)] },
      }));
    }
  }

  function renderReplicas(r, events) {
    state.events = events;
    const stepped = uPlot.paths.stepped({ align: 1 });
    draw('replicas', byId('replicas-chart'), null, [r.times, r.replicas, r.desired, r.ready], () => ({
      series: [
        {},
        { label: 'replicas', stroke: COLORS.replicas, width: 2, paths: stepped },
        { label: 'desired', stroke: COLORS.desired, width: 1.5, dash: [6, 3], paths: stepped },
        { label: 'Ready', stroke: COLORS.ready, width: 2, paths: stepped },
      ],
      // A few reconciles would otherwise spread over the whole width with sub-second ticks.
      scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - MIN_REPLICA_SPAN_MS), max] } },
      hooks: { draw: [(u) => verticalLines(u, state.events.map((e) => e.time), COLORS.event)] },
    }));
  }

  function renderEvents(events) {
    const rows = [...events].reverse().map((e) => {
      const row = el('tr');
      row.append(el('td', new Date(e.time).toLocaleString(), { class: 'num' }), el('td', `${e.from} → ${e.to}`, { class: 'num' }), el('td', e.explanation));
      return row;
    });
    byId('events').tBodies[0].replaceChildren(...rows);
    byId('events-note').hidden = rows.length > 0;
  }

  function renderModels(models) {
    const rows = models.map((m) => {
      const row = el('tr');
      row.append(el('td', m.name), el('td', m.weight === null ? '—' : m.weight.toFixed(3), { class: 'num' }), el('td', m.mase === null ? '—' : m.mase.toFixed(3), { class: 'num' }));
      row.append(el('td', m.trainedAt ? new Date(m.trainedAt).toLocaleString() : '—', { class: 'num' }));
      return row;
    });
    byId('models').tBodies[0].replaceChildren(...rows);
    byId('models-note').hidden = rows.length > 0;
  }

  // --- charts ---------------------------------------------------------------------------------------

  /** Creates the chart `id` in `box` the first time, then only replaces its data. */
  function draw(id, box, title, data, options) {
    const points = data.slice(1).reduce((n, values) => n + values.filter((v) => v !== null).length, 0);
    let chart = state.charts.get(id);
    if (!chart) {
      let target = box;
      if (title !== null) {
        target = el('div', null, { class: 'chart', 'data-chart': id, 'data-chart-id': id, 'data-points': 0 });
        box.append(el('div', title, { class: 'chart-title', 'data-chart-id': id }), target);
      }
      const plot = new uPlot({ width: chartWidth(target), height: 240, ms: 1, scales: { x: { time: true } }, ...options() }, data, target);
      chart = { plot, target };
      state.charts.set(id, chart);
    } else {
      chart.plot.setData(data);
    }
    chart.target.setAttribute('data-points', String(points));
  }

  function chartWidth(target) {
    return Math.max(300, (target.clientWidth || byId('detail').clientWidth || 800) - 8);
  }

  function verticalLines(u, times, color) {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.strokeStyle = color;
    ctx.lineWidth = 1;
    ctx.setLineDash([3, 3]);
    for (const t of times) {
      const x = Math.round(u.valToPos(t, 'x', true));
      if (x < bbox.left || x > bbox.left + bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
    }
    ctx.restore();
  }

  function destroyCharts() {
    for (const chart of state.charts.values()) chart.plot.destroy();
    state.charts.clear();
    byId('demand-charts').replaceChildren();
    byId('replicas-chart').setAttribute('data-points', '0');
  }

  window.addEventListener('resize', () => {
    for (const chart of state.charts.values()) chart.plot.setSize({ width: chartWidth(chart.target), height: 240 });
  });

  // --- live updates ---------------------------------------------------------------------------------

  function setLive(mode, text) {
    const live = byId('live');
    live.setAttribute('data-state', mode);
    live.textContent = text;
  }

  function poll() {
    if (state.pollTimer !== null) return;
    setLive('polling', `polling every ${POLL_MS / 1000} s`);
    state.pollTimer = setInterval(() => {
      refreshList();
      refreshDetail();
    }, POLL_MS);
  }

  function follow() {
    if (typeof EventSource === 'undefined') return poll();
    const source = new EventSource('api/events');
    source.addEventListener('open', () => setLive('live', 'live'));
    source.addEventListener('reconciled', (event) => {
      let update;
      try {
        update = JSON.parse(event.data);
      } catch {
        return;
      }
      refreshList();
      if (update.all || (Array.isArray(update.keys) && update.keys.includes(state.selected))) refreshDetail();
    });
    source.addEventListener('error', () => {
      // The browser retries by itself unless the server refused the stream (503: too many pages).
      if (source.readyState === EventSource.CLOSED) poll();
      else setLive('connecting', 'reconnecting…');
    });
  }

  refreshList();
  follow();
})();
