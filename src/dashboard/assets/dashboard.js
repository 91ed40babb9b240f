// Allot dashboard: charts, sortable tables and live updates over server-rendered pages.
// Amounts arrive as decimal text; they become numbers here only to be plotted, and every label
// and tooltip shows the text the server formatted.
(function () {
  'use strict';
  var charts = [];

  function cssColor(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }
  function lineColor(index) {
    return cssColor('--line-' + (index % 10), '#3356d6');
  }
  function dayLabel(ms) {
    return new Date(ms).toLocaleDateString('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' });
  }
  // Ticks at midnights (UTC) a whole number of days apart, about eight of them: Chart.js would
  // otherwise divide the range evenly, between days.
  function dayTicks(scale) {
    var day = 24 * 60 * 60 * 1000;
    var step = Math.max(1, Math.ceil((scale.max - scale.min) / day / 8)) * day;
    var ticks = [];
    for (var at = Math.ceil(scale.min / day) * day; at <= scale.max; at += step) ticks.push({ value: at });
    // The end of the period is labelled too: beside the last tick, or instead of one too close to it.
    var last = ticks[ticks.length - 1];
    if (scale.max % day === 0 && last && last.value < scale.max) {
      if (scale.max - last.value < step / 2 && ticks.length > 1) ticks.pop();
      ticks.push({ value: scale.max });
    }
    scale.ticks = ticks;
  }
  function points(series) {
    return series.points.map(function (p) { return { x: p.x, y: Number(p.y), label: p.label }; });
  }

  function timeChart(spec, stepped) {
    return {
      type: 'line',
      data: {
        datasets: spec.series.map(function (series, index) {
          var color = series.color ? cssColor(series.color, lineColor(index)) : lineColor(index);
          return {
            label: series.name,
            data: points(series),
            borderColor: color,
            backgroundColor: color,
            borderDash: series.dashed ? [6, 4] : [],
            stepped: stepped ? 'before' : false,
            fill: false,
            pointRadius: series.markers ? 4 : 0,
            pointHoverRadius: 5,
            showLine: !series.markers,
            tension: 0,
          };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        interaction: { mode: 'nearest', intersect: false },
        scales: {
          x: { type: 'linear', min: spec.from, max: spec.to, afterBuildTicks: dayTicks, ticks: { callback: dayLabel, autoSkip: false } },
          y: { beginAtZero: true, title: { display: !!spec.unit, text: spec.unit } },
        },
        plugins: {
          legend: { position: 'bottom' },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? new Date(items[0].raw.x).toUTCString().replace(':00 GMT', ' UTC') : ''; },
              label: function (item) { return item.dataset.label + ': ' + item.raw.label; },
            },
          },
        },
      },
    };
  }

  // Long labels (emails) are cut on narrow screens; the tooltip shows them whole.
  function shorten(label) {
    var room = window.innerWidth < 600 ? 14 : 28;
    return label.length > room ? label.slice(0, room - 1) + '…' : label;
  }

  function barChart(spec) {
    return {
      type: 'bar',
      data: {
        labels: spec.labels,
        datasets: [{ label: spec.name, data: spec.values.map(Number), backgroundColor: spec.labels.map(function (_, i) { return lineColor(i); }) }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: 'y',
        scales: {
          x: { beginAtZero: true, title: { display: !!spec.unit, text: spec.unit } },
          y: { ticks: { autoSkip: false, callback: function (value) { return shorten(this.getLabelForValue(value)); } } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { title: function (items) { return items.length ? spec.labels[items[0].dataIndex] : ''; }, label: function (item) { return spec.formatted[item.dataIndex]; } } },
        },
      },
    };
  }

  function drawCharts(root) {
    if (typeof Chart === 'undefined') return;
    root.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute('data-chart'));
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      var config = spec.kind === 'bars' ? barChart(spec) : timeChart(spec, spec.kind === 'steps');
      charts.push(new Chart(canvas, config));
    });
  }

  // Decimal text compared without turning it into a float: sign, integer digits, then digit by digit.
  function compareDecimal(a, b) {
    var negA = a.charAt(0) === '-', negB = b.charAt(0) === '-';
    if (negA !== negB) return negA ? -1 : 1;
    var sign = negA ? -1 : 1;
    var pa = a.replace('-', '').split('.'), pb = b.replace('-', '').split('.');
    var ia = pa[0].replace(/^0+(?=\d)/, ''), ib = pb[0].replace(/^0+(?=\d)/, '');
    if (ia.length !== ib.length) return sign * (ia.length - ib.length);
    var fa = pa[1] || '', fb = pb[1] || '';
    var width = Math.max(fa.length, fb.length);
    var da = ia + fa.padEnd(width, '0'), db = ib + fb.padEnd(width, '0');
    return sign * (da < db ? -1 : da > db ? 1 : 0);
  }

  // Sorts a table's body by one column: decimal text compared exactly, other text by locale.
  function sortTable(table, column, descending) {
    var headers = table.querySelectorAll('thead th');
    headers.forEach(function (other) { other.removeAttribute('aria-sort'); });
    var th = headers[column];
    th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
    var numeric = th.hasAttribute('data-numeric');
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var c1 = r1.cells[column], c2 = r2.cells[column];
      var v1 = c1.getAttribute('data-sort') || c1.textContent.trim();
      var v2 = c2.getAttribute('data-sort') || c2.textContent.trim();
      var order = numeric ? compareDecimal(v1, v2) : v1.localeCompare(v2);
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function makeSortable(root) {
    root.querySelectorAll('table[data-sortable]').forEach(function (table) {
      var headers = table.querySelectorAll('thead th');
      headers.forEach(function (th, column) {
        if (th.querySelector('button')) return;
        var button = document.createElement('button');
        button.type = 'button';
        button.textContent = th.textContent;
        th.textContent = '';
        th.appendChild(button);
        button.addEventListener('click', function () {
          var current = th.getAttribute('aria-sort');
          // Numbers start with the largest, text from A; a second press reverses.
          var descending = current ? current === 'ascending' : th.hasAttribute('data-numeric');
          sortTable(table, column, descending);
        });
      });
    });
  }

  function enhance(root) {
    drawCharts(root);
    makeSortable(root);
  }

  // What a viewer did to the page that a new version of it should keep: sorted columns, the
  // focused control, scrolled tables, open details.
  function viewerState(main) {
    var sorted = [];
    main.querySelectorAll('table[data-sortable][data-testid]').forEach(function (table) {
      table.querySelectorAll('thead th').forEach(function (th, column) {
        var order = th.getAttribute('aria-sort');
        if (order) sorted.push({ table: table.getAttribute('data-testid'), column: column, descending: order === 'descending' });
      });
    });
    var scrolled = [];
    main.querySelectorAll('.table-wrap').forEach(function (wrap, index) {
      if (wrap.scrollTop || wrap.scrollLeft) scrolled.push({ index: index, top: wrap.scrollTop, left: wrap.scrollLeft });
    });
    var open = [];
    main.querySelectorAll('details').forEach(function (details, index) { if (details.open) open.push(index); });
    var focus = null;
    var active = document.activeElement;
    if (active && main.contains(active)) {
      var table = active.closest('table[data-testid]');
      var th = active.closest('th');
      if (table && th) focus = { table: table.getAttribute('data-testid'), column: Array.prototype.indexOf.call(th.parentNode.children, th) };
    }
    return { sorted: sorted, scrolled: scrolled, open: open, focus: focus };
  }

  function restoreState(main, state) {
    state.sorted.forEach(function (s) {
      var table = main.querySelector('table[data-testid="' + s.table + '"]');
      if (table && table.querySelectorAll('thead th')[s.column]) sortTable(table, s.column, s.descending);
    });
    var wraps = main.querySelectorAll('.table-wrap');
    state.scrolled.forEach(function (s) {
      if (wraps[s.index]) { wraps[s.index].scrollTop = s.top; wraps[s.index].scrollLeft = s.left; }
    });
    var details = main.querySelectorAll('details');
    state.open.forEach(function (index) { if (details[index]) details[index].open = true; });
    if (state.focus) {
      var header = main.querySelectorAll('table[data-testid="' + state.focus.table + '"] thead th')[state.focus.column];
      var button = header && header.querySelector('button');
      if (button) button.focus({ preventScroll: true });
    }
  }

  // Live view: the server sends the page's main content again whenever it changed.
  function followLive() {
    var url = document.body.getAttribute('data-live');
    if (!url || typeof EventSource === 'undefined') return;
    var source = new EventSource(url);
    source.addEventListener('update', function (event) {
      var main = document.getElementById('main');
      var state = viewerState(main);
      charts.forEach(function (chart) { chart.destroy(); });
      charts = [];
      main.innerHTML = JSON.parse(event.data).html;
      enhance(main);
      restoreState(main, state);
    });
    source.addEventListener('expired', function () {
      source.close();
      var status = document.querySelector('.live');
      if (status) {
        status.classList.add('stale');
        status.textContent = 'This view has expired: reload it from your application to keep it live.';
      }
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    enhance(document);
    followLive();
  });
})();
