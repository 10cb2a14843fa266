"""Build the HTML page `dvc plots show` / `dvc plots diff` fill: Vega inlined, no CDN.

DVC's own page loads vega, vega-lite and vega-embed from a CDN, so offline it is blank.
`.dvc/config`'s `plots.html_template` points DVC at this page instead; `make install` writes it
(`python -m mlplab.reporting.vega_template .dvc/offline_plots.html`). The libraries come from
vl-convert-python's `javascript_bundle`, pinned in requirements.lock like any dependency.

DVC fills `{plot_divs}` with one `<div>` per chart whose script calls `vegaEmbed('#id', spec)`.
A chart whose file has no rows (the other task's chart: calibration for classification,
actual-vs-predicted for regression) arrives as `spec = {}`; the `vegaEmbed` defined here drops
its `<div>` instead of drawing an empty frame.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import vl_convert

from mlplab.atomic import write_text

# DVC's templates are Vega-Lite v5 specs ("$schema": ".../vega-lite/v5.json").
VEGA_LITE_VERSION = "5.21"

# Bundled as an ES module: `vegaEmbed`, `vega`, `vegaLite` are the libraries' own exports.
SNIPPET = """
window.vega = vega;
window.vegaLite = vegaLite;
window.vegaEmbed = function (el, spec, options) {
  const node = typeof el === "string" ? document.getElementById(el.replace(/^#/, "")) : el;
  if (!spec || Object.keys(spec).length === 0) {
    if (node) node.remove();
    return Promise.resolve(null);
  }
  // svg: crisp at any zoom, and each drawn mark is an element (tests/browser.py counts them)
  return vegaEmbed(node, spec, Object.assign({ renderer: "svg" }, options));
};
"""

PAGE = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    {refresh_tag}
    <title>DVC plots</title>
    <script type="text/javascript">
__BUNDLE__
    </script>
    <style>
        body { font-family: sans-serif; }
        body > div { display: inline-block; vertical-align: top; margin: 10px; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""

# What DVC replaces in the page (dvc_render.html.HTML.embed); `{scripts}` (its CDN tags) is
# left out on purpose.
PLACEHOLDERS = ("{plot_divs}", "{refresh_tag}", "{scripts}")


def build_page() -> str:
    """The page, with vega-embed, Vega-Lite and Vega inline."""
    bundle = vl_convert.javascript_bundle(SNIPPET, vl_version=VEGA_LITE_VERSION)
    if "</script" in bundle.lower() or any(p in bundle for p in PLACEHOLDERS):
        raise RuntimeError(
            "vl-convert's bundle contains '</script' or a DVC placeholder; it cannot be "
            "inlined as it is"
        )
    return PAGE.replace("__BUNDLE__", bundle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="where to write the page")
    write_text(parser.parse_args().output, build_page())


if __name__ == "__main__":
    main()
