"""The harness around the product: benchmarks, the page-timing and soak drivers, and the Chromium driver.

It lives outside `rnndemo/` so the library never imports playwright or Streamlit's test tools.
Run `python -m benchmarks [--quick] [--browser] [--json]`.
"""
