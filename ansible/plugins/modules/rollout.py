#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-2-Clause
"""uptrkv.fleet.rollout: drive the installed uptrkv through its JSON contract."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: rollout
short_description: Roll out, roll back or remove an uptrkv deployment
description:
  - Drives the installed C(uptrkv) through C(-j), its stable JSON contract
    (docs/commands.md). A rollout migrates every live store of the
    deployment and switches its BPF programs atomically; a failure leaves
    the old version running, so the module never leaves a host half done.
  - Check mode runs C(uptrkv rollout --dry-run) (or C(rollback --dry-run)), so
    the new object is loaded and verified against the live maps and nothing
    changes; C(changed) is what a real run would report.
  - Diff mode returns the plan as before/after text that reads like
    C(uptrkv diff).
options:
  manifest:
    description: Path of the manifest on the target. Needed for C(deployed).
    type: path
  name:
    description: Deployment name. Taken from the manifest if not given.
    type: str
  state:
    description:
      - C(deployed) rolls out the manifest (nothing to do at its version).
      - C(rolled_back) returns to C(to_version); without it, to the version
        before the manifest's if the manifest's is live (so a re-run does
        not flip back).
      - C(absent) undeploys.
    type: str
    choices: [deployed, rolled_back, absent]
    default: deployed
  to_version:
    description: The version C(rolled_back) returns to.
    type: int
  bpffs:
    description: The bpffs root (uptrkv's default, /sys/fs/bpf, if not given).
    type: path
  uptrkv:
    description: The uptrkv binary.
    type: path
    default: uptrkv
  timeout:
    description: Seconds to wait for another uptrkv's lock on the deployment.
    type: int
author: uptrkv developers
'''

EXAMPLES = r'''
- name: Roll out version 2
  uptrkv.fleet.rollout:
    manifest: /etc/uptrkv/demo_v2.yaml

- name: Return to version 1
  uptrkv.fleet.rollout:
    name: demo
    state: rolled_back
    to_version: 1
'''

RETURN = r'''
name: {description: The deployment., type: str, returned: always}
version: {description: The version live after the run (or that would be, in check mode)., type: int, returned: success}
previous_version: {description: The version live before the run (null if none)., type: int, returned: always}
plan: {description: The change plan, as in C(uptrkv diff -j)., type: dict, returned: when uptrkv made one}
timing_ms: {description: The run's phases in milliseconds., type: dict, returned: when uptrkv ran a rollout}
result: {description: uptrkv's result word (deployed, upgraded, rolled back, nothing to do, dry run, undeployed)., type: str, returned: success}
code: {description: The stable error code (lock_timeout, incompatible, verifier, ...)., type: str, returned: failure}
uptrkv: {description: uptrkv's whole JSON document., type: dict, returned: always}
'''

import json
import time

from ansible.module_utils.basic import AnsibleModule


class Uptrkv(object):
    """Runs uptrkv -j; every run gives exactly one JSON document."""

    def __init__(self, module):
        self.module = module
        p = module.params
        self.base = [p['uptrkv'], '-j', '--progress=none']
        if p['bpffs']:
            self.base += ['--bpffs', p['bpffs']]
        if p['timeout'] is not None:
            self.base += ['--timeout', str(p['timeout'])]

    def run(self, *args):
        rc, out, err = self.module.run_command(self.base + list(args))
        try:
            doc = json.loads(out)
        except ValueError:
            doc = {'error': 'uptrkv printed no JSON document: %s' % (err or out).strip(),
                   'code': 'failed'}
        return rc, doc, err

    def text(self, *args):
        cmd = [a for a in self.base if a != '-j'] + list(args)
        return self.module.run_command(cmd)[1]


def fail(module, what, rc, doc, err, **extra):
    module.fail_json(msg='%s: %s' % (what, doc.get('error', err.strip())), rc=rc,
                     code=doc.get('code', 'failed'), stderr=err, uptrkv=doc,
                     plan=doc.get('plan'), **extra)


def manifest_info(module, u):
    rc, doc, err = u.run('validate', module.params['manifest'])
    if rc != 0:
        fail(module, 'validate %s' % module.params['manifest'], rc,
             {'error': '; '.join(e['message'] for m in doc.get('manifests', [])
                                 for e in m.get('errors', [])) or doc.get('error', err),
              'code': 'invalid_manifest'}, err)
    m = doc['manifests'][0]
    return m['name'], m['version']


def live_version(u, name):
    """The live version, or None when name is not deployed (or no bpffs yet)."""
    rc, doc, err = u.run('status', name)
    if rc == 0:
        return doc['deployments'][0]['version']
    if doc.get('code') in ('not_found', 'not_bpffs'):
        return None
    fail(u.module, 'status %s' % name, rc, doc, err)


def key_line(name, size, typ):
    return '%-20s %6s bytes  %s' % (name, size, typ or '')


def plan_diff(name, before_version, after_version, plan):
    """before/after text for --diff: one line per changed key, like uptrkv diff."""
    before = ['%s: version %s' % (name, before_version)]
    after = ['%s: version %s' % (name, after_version)]
    for c in (plan or {}).get('changes', []):
        label = 'key %-4d ' % c['id']
        if c['old_size'] is not None:
            before.append(label + key_line(c.get('old_name') or c['name'], c['old_size'], c.get('old_type')))
        if c['new_size'] is not None:
            note = ' (%s)' % c['change'] + ('; REFUSED: %s' % c['why'] if c.get('refused') else '')
            after.append(label + key_line(c['name'], c['new_size'], c.get('new_type')) + note)
    if plan:
        after.append('%s -> %s bytes per task; %s' % (
            plan.get('bytes_before'), plan.get('bytes_after'),
            'compatible' if plan.get('compatible') else 'INCOMPATIBLE'))
    return {'before': '\n'.join(before) + '\n', 'after': '\n'.join(after) + '\n',
            'before_header': 'deployed:%s' % name, 'after_header': 'plan'}


def finish(module, name, prev, doc, t0, changed_words=('nothing to do',)):
    result = doc.get('result')
    changed = result not in changed_words
    ret = dict(changed=changed, name=name, previous_version=prev,
               version=doc.get('to_version', prev), plan=doc.get('plan'),
               timing_ms=doc.get('timing_ms', {'total': int((time.time() - t0) * 1000)}),
               result=result, uptrkv=doc)
    if module._diff and changed:
        ret['diff'] = plan_diff(name, prev, ret['version'], doc.get('plan'))
    module.exit_json(**ret)


def deployed(module, u, t0):
    name, version = manifest_info(module, u)
    prev = live_version(u, name)
    args = ['rollout', module.params['manifest']]
    if module.check_mode:
        args.append('--dry-run')
    rc, doc, err = u.run(*args)
    if rc != 0:
        fail(module, 'rollout %s' % module.params['manifest'], rc, doc, err, name=name,
             previous_version=prev, version=prev)
    finish(module, name, prev, doc, t0)


def rolled_back(module, u, t0):
    p = module.params
    name, version = p['name'], None
    if p['manifest']:
        name, version = manifest_info(module, u)
    if not name:
        module.fail_json(msg='state=rolled_back needs name or manifest', code='usage')
    prev = live_version(u, name)
    if prev is None:
        fail(module, 'rollback %s' % name, 1, {'error': '%s is not deployed' % name,
                                              'code': 'not_found'}, '')
    target = p['to_version']
    # Idempotent: already at the target, or (no target) already below the
    # manifest's version.
    if (target is not None and prev == target) or (target is None and version is not None
                                                   and prev < version):
        module.exit_json(changed=False, name=name, previous_version=prev, version=prev,
                         plan=None, timing_ms={'total': 0}, result='nothing to do', uptrkv={})
    args = ['rollback', name]
    if target is not None:
        args += ['--to-version', str(target)]
    if module.check_mode:
        args.append('--dry-run')
    rc, doc, err = u.run(*args)
    if rc != 0:
        fail(module, 'rollback %s' % name, rc, doc, err, name=name, previous_version=prev,
             version=prev)
    finish(module, name, prev, doc, t0)


def absent(module, u, t0):
    p = module.params
    name = p['name'] or manifest_info(module, u)[0]
    prev = live_version(u, name)
    if prev is None or module.check_mode:
        module.exit_json(changed=prev is not None, name=name, previous_version=prev,
                         version=None, plan=None, timing_ms={'total': 0},
                         result='undeployed' if prev is not None else 'nothing to do', uptrkv={})
    rc, doc, err = u.run('undeploy', name)
    if rc != 0:
        fail(module, 'undeploy %s' % name, rc, doc, err, name=name, previous_version=prev)
    ret = dict(changed=True, name=name, previous_version=prev, version=None, plan=None,
               timing_ms={'total': int((time.time() - t0) * 1000)}, result='undeployed',
               uptrkv=doc)
    if module._diff:
        ret['diff'] = {'before': '%s: version %s\n' % (name, prev), 'after': ''}
    module.exit_json(**ret)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            manifest=dict(type='path'),
            name=dict(type='str'),
            state=dict(type='str', default='deployed', choices=['deployed', 'rolled_back', 'absent']),
            to_version=dict(type='int'),
            bpffs=dict(type='path'),
            uptrkv=dict(type='path', default='uptrkv'),
            timeout=dict(type='int'),
        ),
        required_if=[('state', 'deployed', ['manifest'])],
        required_one_of=[('manifest', 'name')],
        supports_check_mode=True,
    )
    u = Uptrkv(module)
    t0 = time.time()
    {'deployed': deployed, 'rolled_back': rolled_back, 'absent': absent}[module.params['state']](module, u, t0)


if __name__ == '__main__':
    main()
