"""Drives jaeger-client 4.8.0, the seed application's tracer, against Sluice's jaeger input.

    jaeger_client_send.py seed   AGENT_PORT SAMPLING_PORT SERVICE TRACES
    jaeger_client_send.py remote AGENT_PORT SAMPLING_PORT SERVICE EXPECTED_RATE

`seed`: the tracer configured as the seed's tracing/jaeger_config.py (const sampler, logging,
reporter_batch_size 1; only the agent's host and ports are ours, or with `-` for both ports,
the seed's own: the agent on localhost, 6831/udp and 5778) sends TRACES traces of two spans
each, with tags and log_kv, then prints {"trace_ids": [hex, ...]}.

`remote`: a tracer without a sampler, so jaeger-client polls the agent's sampling endpoint;
waits until its sampler became probabilistic at EXPECTED_RATE and prints what it got.
"""

import json
import sys
import time

from jaeger_client import Config
from jaeger_client.sampler import ProbabilisticSampler


def tracer(service, agent_port, sampling_port, sampler):
    config = {
        'logging': True,
        'reporter_batch_size': 1,
    }
    if agent_port is not None:
        config['local_agent'] = {
            'reporting_host': '127.0.0.1',
            'reporting_port': agent_port,
            'sampling_port': sampling_port,
        }
    if sampler is not None:
        config['sampler'] = sampler
    else:
        config['sampling_refresh_interval'] = 1
    return Config(config=config, service_name=service, validate=True).new_tracer()


def seed(agent_port, sampling_port, service, traces):
    t = tracer(service, agent_port, sampling_port, {'type': 'const', 'param': 1})
    trace_ids = []
    for i in range(traces):
        with t.start_span('GET /api/manga') as root:
            root.set_tag('component', 'flask')
            root.set_tag('http.status_code', 500)
            root.set_tag('error', True)
            root.set_tag('manga.score', 9.5)
            with t.start_span('db.query', child_of=root) as child:
                child.set_tag('db.statement', 'SELECT * FROM manga WHERE id = %d' % i)
                child.log_kv({'event': 'cache miss', 'key': 'manga:%d' % i})
            trace_ids.append('%032x' % root.trace_id)
    # Let the reporter's thread send what it holds, then close it.
    time.sleep(1)
    t.close()
    time.sleep(1)
    print(json.dumps({'trace_ids': trace_ids}), flush=True)


def remote(agent_port, sampling_port, service, rate):
    t = tracer(service, agent_port, sampling_port, None)
    deadline = time.time() + 20
    sampler = t.sampler.sampler
    while time.time() < deadline:
        sampler = t.sampler.sampler
        if isinstance(sampler, ProbabilisticSampler) and abs(sampler.rate - rate) < 1e-9:
            break
        time.sleep(0.1)
    print(json.dumps({'sampler': type(sampler).__name__,
                      'rate': getattr(sampler, 'rate', None)}), flush=True)
    t.close()


if __name__ == '__main__':
    mode, agent_port, sampling_port, service, n = sys.argv[1:6]
    agent_port, sampling_port = (None if p == '-' else int(p) for p in (agent_port, sampling_port))
    if mode == 'seed':
        seed(agent_port, sampling_port, service, int(n))
    else:
        remote(agent_port, sampling_port, service, float(n))
