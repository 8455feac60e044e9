"""Local fakes of platform services, for tests over real HTTP."""
