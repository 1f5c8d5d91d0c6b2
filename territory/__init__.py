"""The territory a deployment serves (an Ambito): data every layer may read.

It sits below bot, flows, nlu and catalog and imports none of them.
"""
