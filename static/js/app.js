// One websocket per page (data-ws-url on <body>). Server events arrive as JSON {"type": "a.b", ...}
// and are re-dispatched on <body> as DOM events "va:a-b", which HTMX elements listen to with
// hx-trigger="va:a-b from:body". Reconnects with backoff.
(function () {
  const url = document.body.dataset.wsUrl;
  if (!url) return;
  let delay = 500;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + url);
    socket.onopen = () => { delay = 500; document.body.dataset.live = "1"; };
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      document.body.dispatchEvent(new CustomEvent("va:" + event.type.replace(/\./g, "-"), { detail: event }));
    };
    socket.onclose = (closed) => {
      document.body.dataset.live = "0";
      if (closed.code === 4401 || closed.code === 4404) return; // not allowed: do not retry
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }
  connect();
})();
