"""Every argument of every command has a help text, and its rendered help states the default."""

import argparse

import pytest

from vaekit.cli.main import build_parser


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {"vaekit": parser, **sub.choices}


COMMANDS = _commands()


def _flat(text: str) -> str:
    return " ".join(text.split())  # the help as one line: argparse wraps it at any space


def _states_a_default(action: argparse.Action) -> bool:
    """A default worth printing: not None or empty (the help says what absence means), not a flag's False."""
    return action.default not in (None, argparse.SUPPRESS) and action.default != [] and action.nargs != 0


def test_the_walk_covers_every_command():
    assert set(COMMANDS) >= {"vaekit", "train", "sample", "reconstruct", "encode", "interpolate", "traverse"}
    assert {"evaluate", "report", "explore", "datasets", "train-prior"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_argument_has_help_and_its_help_states_the_default(name):
    parser = COMMANDS[name]
    rendered = _flat(parser.format_help())
    for action in parser._actions:
        label = "/".join(action.option_strings) or action.dest
        assert action.help and action.help.strip(), f"vaekit {name}: {label} has no help"
        if isinstance(action, argparse._SubParsersAction):
            assert all(choice.help for choice in action._choices_actions), f"a command without help: {name}"
            continue
        if _states_a_default(action):
            assert f"(default: {action.default})" in rendered, f"vaekit {name}: {label} does not state its default"
        elif action.option_strings and not action.required and action.nargs != 0 and action.default is None:
            # absent means something: the help says what, in the same words the formatter uses
            assert "(default: " in action.help, f"vaekit {name}: {label} does not say what happens when absent"
    for noise in ("(default: None)", "(default: False)", "(default: [])", "(default: ==SUPPRESS==)"):
        assert noise not in rendered, f"vaekit {name}: {noise}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_required_arguments_state_no_default(name):
    parser = COMMANDS[name]
    for action in parser._actions:
        if action.required and action.nargs not in ("*", "?"):  # argparse marks a `*` positional required
            assert "default" not in action.help, f"vaekit {name}: required {action.dest} mentions a default"


def test_examples_of_the_rendered_defaults():
    sample = _flat(COMMANDS["sample"].format_help())
    assert "number of samples (default: 64)" in sample and "seed of the draws (default: 0)" in sample
    encode = _flat(COMMANDS["encode"].format_help())
    assert "(default: the run's own data" in encode and "which split of the data (default: test)" in encode
    assert "FILE.npy or FILE.csv (one row per image) to write" in encode and "to write (default" not in encode
