# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for crlsync(8): subcommands, global options (before or after the subcommand), each
# subcommand's own options, and file names where a file is expected.

_crlsync()
{
	local cur prev words cword
	_init_completion || return

	local commands="fetch daemon refresh status health check verify help"
	local global="-c --config -q --quiet -v --verbose -V --version -h --help"
	local cmd="" i

	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-c | --config | --pidfile | --ca | --warn | --crit) ((i++)) ;; # skip the option's argument
		-*) ;;
		*)
			cmd=${words[i]}
			break
			;;
		esac
	done

	case $prev in
	-c | --config | --ca)
		_filedir
		return
		;;
	--pidfile)
		_filedir pid
		return
		;;
	--warn | --crit)
		return # a duration (90, 15m, 2h, 1d): nothing to complete
		;;
	esac

	local own=""
	case $cmd in
	daemon) own="--pidfile --no-pidfile --syslog" ;;
	refresh) own="--pidfile" ;;
	status) own="--wide --json --prometheus" ;;
	health) own="--warn --crit" ;;
	verify) own="--ca" ;;
	help)
		[[ $cur != -* ]] && COMPREPLY=($(compgen -W "${commands% help}" -- "$cur"))
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$global $own" -- "$cur"))
	elif [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands" -- "$cur"))
	elif [[ $cmd == check ]]; then
		_filedir '@(pem|crt|cer|der)'
	elif [[ $cmd == verify ]]; then
		_filedir '@(crl|pem|der)'
	fi
} && complete -F _crlsync crlsync
