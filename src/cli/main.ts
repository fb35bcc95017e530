#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command();
program.name('concord').description('Build, test and run distributed systems.').version('0.1.0');
program.parse();
