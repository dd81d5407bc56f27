// Hands the exact K of each release (bytes from Python) to the live heatmap.
// The two components share one page, so a channel on `window` joins them.
export default function ({ data }) {
  const channel = (window.__vmapLiveGram ||= {});
  if (!data) return;
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  channel.exact = bytes.slice().buffer; // a copy at offset 0: typed views need alignment
  if (channel.view) channel.view.setExact(channel.exact);
}
