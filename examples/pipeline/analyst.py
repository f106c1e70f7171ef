"""The pipeline example's Python plugin: a typed plugin, written from docs/python.md.

It takes the application's contract from its own port, reads Readings (from the C++
plugin Sensors), Summaries and Alerts (from Aggregator) as dataclasses, recomputes every
Summary and Alert from the Readings and compares them field for field, then publishes one
Report, which Sensors waits for. Run it with pyevents on the path:

    PYTHONPATH=pyevents python3 examples/pipeline/analyst.py [port] [readings]
"""

import logging
import sys

from pyevents import PluginClient

logging.basicConfig(level=logging.INFO, format="analyst: %(message)s")
log = logging.getLogger("analyst")

port = int(sys.argv[1]) if len(sys.argv) > 1 else 6001
expected_readings = int(sys.argv[2]) if len(sys.argv) > 2 else 12

# The enumerators' values and the rules, as in examples/pipeline/events.hpp (a manifest
# describes an enum by its underlying integer only).
CELSIUS, HUMIDITY = 0, 1
WARNING, CRITICAL = 1, 2
WINDOW = 2
ALERT_CELSIUS = 30.0


def expected_summaries(readings, Summary):
    """The Summaries Aggregator publishes for these readings: one per sensor every WINDOW."""
    windows, summaries = {}, []
    for reading in readings:
        window = windows.setdefault(reading.sensor, [])
        window.append(reading)
        if len(window) == WINDOW:
            celsius = [s.value for r in window for s in r.samples if s.quantity == CELSIUS]
            humidity = [s.value for r in window for s in r.samples if s.quantity == HUMIDITY]
            summaries.append(Summary(
                sensor=reading.sensor, readings=len(window),
                mean_celsius=sum(celsius) / len(celsius), max_celsius=max(celsius),
                mean_humidity=sum(humidity) / len(humidity) if humidity else None,
                sequences=[r.sequence for r in window]))
            window.clear()
    return summaries


def expected_alerts(readings, Alert):
    """The Alerts Aggregator publishes for these readings: one per sample above ALERT_CELSIUS."""
    return [Alert(sensor=r.sensor, sequence=r.sequence,
                  severity=CRITICAL if s.value > ALERT_CELSIUS + 2 else WARNING,
                  text=f"sensor {r.sensor} ({r.location.site}) reads {s.value:.1f} C")
            for r in readings for s in r.samples if s.quantity == CELSIUS and s.value > ALERT_CELSIUS]


with PluginClient(port, timeout=10) as client:
    contract = client.load_contract()      # the manifest, over this plugin's own port
    Reading = contract.type("Reading")     # dataclasses generated from the layouts
    Summary = contract.type("Summary")
    Alert = contract.type("Alert")

    readings, summaries, alerts = [], [], []
    for event in client.events(timeout=30):    # ends after 30 s without an event
        if isinstance(event, Reading):
            readings.append(event)
        elif isinstance(event, Summary):
            summaries.append(event)
        elif isinstance(event, Alert):
            alerts.append(event)
            log.info("alert: %s", event.text)
        if (len(readings) == expected_readings
                and len(summaries) == len(expected_summaries(readings, Summary))
                and len(alerts) == len(expected_alerts(readings, Alert))):
            break

    readings.sort(key=lambda r: r.sequence)
    log.info("first reading: %s", readings[0] if readings else None)
    by_sequences = lambda s: s.sequences  # noqa: E731 - events of two publishers come in any order
    summaries_match = (sorted(summaries, key=by_sequences)
                       == sorted(expected_summaries(readings, Summary), key=by_sequences)
                       and sorted(alerts, key=lambda a: a.sequence) == expected_alerts(readings, Alert))
    log.info("%d readings, %d summaries, %d alerts; every summary and alert as recomputed: %s",
             len(readings), len(summaries), len(alerts), summaries_match)

    client.publish_typed(contract.new(
        "Report", readings=len(readings), summaries=len(summaries), alerts=len(alerts),
        sites=sorted({r.location.site for r in readings}), summaries_match=summaries_match))

sys.exit(0 if summaries_match and len(readings) == expected_readings else 1)
