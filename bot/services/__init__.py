"""The services the app is built from: inbound actions, people, enrollment, exports, reports."""
