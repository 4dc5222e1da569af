"""The generated ACL gives each device its own topics only."""

from queue_server.mosquitto_acl import render


def test_each_device_may_write_only_its_own_request_topic(config):
    acl = render(config)
    assert "user motcua-server\ntopic readwrite motcua/ubnd-huyen-demo/#" in acl
    kiosk = acl.split("user kiosk-01\n", 1)[1].split("\n\n", 1)[0]
    assert "topic write motcua/ubnd-huyen-demo/req/kiosk-01" in kiosk
    assert "topic read motcua/ubnd-huyen-demo/res/kiosk-01" in kiosk
    assert "req/kiosk-02" not in kiosk and "readwrite motcua/ubnd-huyen-demo/#" not in kiosk
    assert acl.count("\nuser ") == len(config.devices) + 1
