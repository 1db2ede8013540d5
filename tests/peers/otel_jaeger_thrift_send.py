"""Drives opentelemetry-exporter-jaeger-thrift 1.21.0 (with opentelemetry-sdk 1.21.0) against
Sluice's jaeger input.

    otel_jaeger_thrift_send.py agent     PORT SERVICE SPANS   # UDP compact emitBatch
    otel_jaeger_thrift_send.py collector PORT SERVICE SPANS   # HTTP POST /api/traces

Sends SPANS spans (a root and its children, attributes of every type, an event) through a
SimpleSpanProcessor, so each span is exported as it ends, then prints {"trace_id": hex}.
"""

import json
import sys

from opentelemetry.exporter.jaeger.thrift import JaegerExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

mode, port, service, spans = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
if mode == 'agent':
    exporter = JaegerExporter(agent_host_name='127.0.0.1', agent_port=port)
else:
    exporter = JaegerExporter(
        collector_endpoint='http://127.0.0.1:%d/api/traces?format=jaeger.thrift' % port)
provider = TracerProvider(resource=Resource.create({'service.name': service, 'deployment': 'test'}))
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer('sluice-test', '1.0')

with tracer.start_as_current_span('checkout') as root:
    root.set_attribute('order.items', 3)
    root.set_attribute('order.express', True)
    root.set_attribute('order.total', 12.5)
    root.set_attribute('order.tags', ['a', 'b'])
    root.add_event('payment', {'provider': 'card'})
    for i in range(spans - 1):
        with tracer.start_as_current_span('step-%d' % i) as child:
            child.set_attribute('step', i)
    trace_id = '%032x' % root.get_span_context().trace_id
provider.shutdown()
print(json.dumps({'trace_id': trace_id}), flush=True)
