"""Code that runs INSIDE the OpenVINO virtual environment (``.venv-openvino``, see
scripts/_openvino_env.sh).

OpenVINO's Paddle frontend is a *reader* of Fluid inference models: it implements
``load_inference_model`` only.  ``server.py`` imports only openvino, numpy and the standard library —
never fluidspec, which is not installed there — and is run as a script, so this ``__init__``
deliberately imports nothing: importing the package from fluidspec's own venv must stay harmless.
"""
