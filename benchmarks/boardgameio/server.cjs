// The boardgame.io 0.50 server for the side-by-side benchmark: the tic-tac-toe game,
// the in-memory store, its lobby API and socket.io transport on one port.
//   node benchmarks/boardgameio/server.cjs PORT
"use strict";

const { Server, Origins } = require("boardgame.io/server");
const { TicTacToe } = require("./tictactoe.cjs");

const port = Number(process.argv[2] || 8000);
const server = Server({ games: [TicTacToe], origins: [Origins.LOCALHOST] });
server.run({ port, callback: () => process.stdout.write(`listening ${port}\n`) });
