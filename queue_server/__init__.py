"""The office's queue server: engine, store, MQTT adapter, embedded broker, web."""
