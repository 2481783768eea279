// Every header of tenfold/data/, for the umbrella header.
#pragma once
#include "../core/internal.hpp"

#include "augment.hpp"
#include "batches.hpp"
#include "char_vocabulary.hpp"
#include "csv.hpp"
#include "dataset.hpp"
#include "idx.hpp"
#include "keyed_order.hpp"
#include "input_file.hpp"
#include "mnist.hpp"
#include "shuffle.hpp"
#include "text.hpp"
#include "token_windows.hpp"
