"""Developer tools: `hplj demo` and `hplj chat`, on the console adapter."""
