// Shared by the three burst pages (tether-ws, leptos-use, raw JS): the page
// calls __benchOpen() when its socket opens and __benchDone(count) once every
// message is in its list; the result waits for the next frame to be painted.
// `make bench` (bench/loadgen) reads window.__bench through WebDriver.
window.__longtasks = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longtasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
} catch (_) {}
window.__benchOpen = () => { window.__t0 = performance.now(); };
window.__benchDone = (count) => {
  requestAnimationFrame(() => setTimeout(() => {
    const end = performance.now();
    const ms = end - window.__t0;
    // Long tasks are reported asynchronously: collect them a little later.
    setTimeout(() => {
      let longest = 0;
      for (const [start, d] of window.__longtasks) {
        if (start + d >= window.__t0 && start <= end) longest = Math.max(longest, d);
      }
      window.__bench = { count, ms, longest };
    }, 300);
  }));
};
