"""fluidspec's readable reference implementation (to grow into a Fluid-compatible namespace)."""
